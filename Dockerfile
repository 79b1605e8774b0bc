# rtgate's image: a static binary on a minimal runtime, as a non-root user.
#
#   docker build -t rtgate .
#   docker run -v rtgate-sock:/sock -v rtgate-data:/data rtgate
#
# Base images are build arguments whose defaults are the public images;
# make test-compose passes locally built ones. RUNTIME_IMAGE defaults to
# scratch, which needs no pull: the build stage makes every file the
# runtime needs (passwd and group, CA bundle, /tmp, the volume roots).
# Builds with the legacy builder and with BuildKit alike (no RUN --mount,
# and no syntax line, which would make BuildKit pull a frontend image).
# Configuration: RTGATE_* variables (docs/deploy.md), or a file named by
# RTGATE_CONFIG (e.g. mounted in /config).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=scratch

FROM ${GO_IMAGE} AS build
# The builder's module proxy and checksum settings; unset ones leave Go's
# defaults. Build arguments do not reach the final image.
ARG GOPROXY
ARG GOSUMDB
ARG GONOSUMDB
ARG GOPRIVATE
ARG GOFLAGS
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rtgate ./cmd/rtgate \
 && /out/rtgate version \
 && mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot /out/config /out/sock /out/data \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && printf 'root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' >/out/etc/group \
 && chmod 1777 /out/tmp \
 && chown 65532:65532 /out/home/nonroot /out/sock /out/data \
 && chmod 0750 /out/sock /out/data

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/ /
USER 65532:65532
# The defaults of an rtgate in a container: its SCGI socket in /sock (share
# that volume with Flood or ruTorrent), the engine's files in /data. HTTP
# stays on the container's loopback until RTGATE_LISTEN_HTTP says
# otherwise (off loopback it needs auth.token_file: RTGATE_AUTH_TOKEN_FILE).
ENV HOME=/home/nonroot \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    RTGATE_LISTEN_SCGI=/sock/rtgate/rpc.sock \
    RTGATE_ENGINE_DATA_DIR=/data/downloads \
    RTGATE_ENGINE_SESSION_DIR=/data/session
VOLUME ["/config", "/sock", "/data"]
EXPOSE 5080
# /readyz through the binary itself (the runtime has nothing else to run).
# The start period covers rtorrent.wait's 30 s.
HEALTHCHECK --interval=10s --timeout=6s --start-period=40s --retries=3 CMD ["/rtgate", "health"]
ENTRYPOINT ["/rtgate"]
CMD ["run"]
