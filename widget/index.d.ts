// Types of <focal-upload> (@focal/upload-widget): the element, its attributes and events.

/** The package's version. */
export declare const VERSION: string;

/** What an upload is doing. */
export type FocalUploadState =
  | "checking"
  | "waiting"
  | "uploading"
  | "retrying"
  | "done"
  | "refused"
  | "error"
  | "cancelled";

/** One upload of an element, as `element.uploads` lists it. */
export interface FocalUpload {
  key: number;
  filename: string;
  state: FocalUploadState;
  /** The image id, once the authorize-url has given one. */
  id: string | null;
  /** Focal's description of the stored image, once uploaded. */
  result?: FocalImage;
  message?: string;
}

/** Focal's description of a stored image (the `result` of the upload's answer). */
export interface FocalImage {
  id: string;
  filename: string | null;
  uploaded: string;
  requireSignedURLs: boolean;
  /** Delivery URLs, one per named variant: `<focal>/images/<id>/<variant>`. */
  variants: string[];
  metadata: Record<string, unknown>;
  format: string;
  width: number;
  height: number;
  size: number;
}

/** What the element's `authorize-url` answers: the shape of Focal's direct upload result
 * (`POST /images/v2/direct_upload`), bare or in Focal's envelope (`{result: {...}}`). */
export interface FocalUploadGrant {
  uploadURL: string;
  id?: string;
}

/** What the element POSTs as JSON to its `authorize-url`, once per file. */
export interface FocalAuthorizeRequest {
  filename: string;
  type: string;
  size: number;
}

/** The server's upload limits, from `GET <focal>/widget/v1/limits`. */
export interface FocalUploadLimits {
  maxBytes: number;
  maxPixels: number;
  maxSide: number;
  types: string[];
}

export interface FocalUploadSuccessDetail {
  key: number;
  id: string;
  filename: string;
  /** Delivery URLs of the image, one per named variant. */
  variants: string[];
  width: number;
  height: number;
  result: FocalImage;
}

export interface FocalUploadErrorDetail {
  key: number;
  id: string | null;
  filename: string;
  /** What went wrong, in words a person can act on. */
  message: string;
  /** The HTTP status of the answer; 0 without one (refused here, or no answer). */
  status: number;
  /** Focal's error code, when Focal answered. */
  code: number | null;
  /** Tries made; 0 when the file was refused before any was made. */
  attempts: number;
  /** True when another try follows after a pause. */
  willRetry: boolean;
  /** True when the file was refused before sending (type, size, pixel size, max-files). */
  refused: boolean;
}

export interface FocalUploadProgressDetail {
  key: number;
  id: string | null;
  filename: string;
  /** Bytes of this file sent so far, of `total`. */
  loaded: number;
  total: number;
  /** Bytes of all current uploads sent so far, of `totalBytes`. */
  totalLoaded: number;
  totalBytes: number;
  /** totalLoaded / totalBytes, 0 to 1. */
  progress: number;
}

export interface FocalUploadEventMap extends HTMLElementEventMap {
  "focal-upload-success": CustomEvent<FocalUploadSuccessDetail>;
  "focal-upload-error": CustomEvent<FocalUploadErrorDetail>;
  "focal-upload-progress": CustomEvent<FocalUploadProgressDetail>;
}

/** `<focal-upload authorize-url="/my/endpoint">`: defined on import. */
export declare class FocalUploadElement extends HTMLElement {
  static readonly observedAttributes: string[];
  /** `authorize-url`: the application's endpoint answering {@link FocalUploadGrant}. */
  readonly authorizeUrl: string;
  readonly disabled: boolean;
  readonly uploads: FocalUpload[];
  /** Opens the file picker. */
  open(): void;
  /** Checks the files and starts their uploads. */
  addFiles(files: FileList | Iterable<File>): void;
  /** Cancels one upload by its key, or every unfinished one. */
  cancel(key?: number): void;
  /** Tries a failed or cancelled upload again (with a new upload URL). */
  retry(key: number): void;

  addEventListener<K extends keyof FocalUploadEventMap>(
    type: K,
    listener: (this: FocalUploadElement, event: FocalUploadEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof FocalUploadEventMap>(
    type: K,
    listener: (this: FocalUploadElement, event: FocalUploadEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The element's attributes, for JSX and templates. Numbers may be given as strings. */
export interface FocalUploadAttributes {
  /** Required: the application's endpoint POSTed (with the page's cookies) once per file. */
  "authorize-url": string;
  /** Types taken, as an `<input type=file>` accept list; default `image/*`. */
  accept?: string;
  /** The largest file taken, in bytes (the server's own limit also holds). */
  "max-size"?: number | string;
  /** How many files the element takes in all. */
  "max-files"?: number | string;
  /** Present: several files at once. */
  multiple?: boolean | "";
  /** Present: photos larger than this side (px), or than the server's limits, are shrunk
   * in the browser before upload, upright (EXIF orientation applied). */
  downscale?: number | string;
  /** Quality (0 to 1) of a shrunk photo's JPEG or WebP; default 0.9. */
  quality?: number | string;
  /** Tries again after a failure that may pass (no answer, 5xx, 408, 429); default 3. */
  retries?: number | string;
  /** Milliseconds before the first retry, doubled each time; default 1000. */
  "retry-delay"?: number | string;
  /** Where the server's limits are read; default beside the script when Focal served it,
   * else `<focal>/widget/v1/limits` of the first upload URL. */
  "limits-url"?: string;
  /** The drop zone's accessible name. */
  label?: string;
  disabled?: boolean | "";
}

declare global {
  interface HTMLElementTagNameMap {
    "focal-upload": FocalUploadElement;
  }
}
