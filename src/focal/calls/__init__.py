"""Calls: a WebRTC SFU with the product's HTTP API (needs focal[calls], i.e. aiortc).

`sfu.Sfu` holds each app's sessions; `forwarding` is the seam around aiortc that forwards
encoded RTP from a publisher's receiver to each subscriber's sender; `ice` keeps ICE to the
configured addresses. docs/calls.md explains them.
"""
