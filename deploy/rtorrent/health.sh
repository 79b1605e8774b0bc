#!/bin/sh
# Healthy when rTorrent answers one XML-RPC call on its SCGI socket.
body='<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>'
headers=$(printf 'CONTENT_LENGTH\000%s\000SCGI\0001\000' ${#body} | wc -c)
{ printf '%s:' "$headers"; printf 'CONTENT_LENGTH\000%s\000SCGI\0001\000' ${#body}; printf ',%s' "$body"; } |
	socat -t 3 - UNIX-CONNECT:/sock/rtorrent/rpc.sock | grep -q '<methodResponse>'
