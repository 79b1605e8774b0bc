#!/bin/sh
# Starts rTorrent in the foreground as the container's main process (it
# saves its session on the SIGTERM that docker stop sends).
# umask 007: the socket is rw for rtorrent and its group rtsock (rtgate)
# and nobody else; /sock/rtorrent is 0750 rtorrent:rtsock. Downloads are
# group media (setgid directory), the session rtorrent's alone.
set -e
umask 007
mkdir -p /data/session /data/downloads /sock/rtorrent
chmod 0700 /data/session
chgrp media /data/downloads && chmod 2770 /data/downloads
chmod 0750 /sock/rtorrent
# What a killed rTorrent leaves: its socket, and the session lock that
# would make the next start refuse the session.
rm -f /sock/rtorrent/rpc.sock /data/session/rtorrent.lock
exec rtorrent -n -o import=/etc/rtorrent/rtorrent.rc "$@"
