# Multi-stage build: a static edge binary on a distroless base, run as a
# non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/edge ./cmd/edge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edge /usr/local/bin/edge
WORKDIR /home/nonroot
USER nonroot:nonroot
# 8443: the quick-start HTTPS listener; 9901: the admin listener.
EXPOSE 8443 9901
ENTRYPOINT ["/usr/local/bin/edge"]
# Quick start reachable through a published port: docker run -p 8443:8443 edge
CMD ["--address", "0.0.0.0"]
