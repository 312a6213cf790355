// SPDX-License-Identifier: GPL-2.0-only

// stargz-peer - the real peer of incrfs's lazy start, stargz-snapshotter's
// own code (Debian's golang-github-containerd-stargz-snapshotter-dev), as a
// baseline for make bench and make demo.  Bench code, not part of incrfs.
//
//	stargz-peer convert SRC_LAYOUT:TAG DEST_LAYOUT:TAG
//	    every layer of the OCI layout's image rebuilt as eStargz (package
//	    estargz, its default 4 MiB chunks, gzip), with the TOC digest and
//	    uncompressed size annotations stargz-snapshotter needs, the
//	    config's diff_ids updated; written to DEST as an OCI layout, with
//	    DEST/layers.txt listing the layers' digests, bottom first.
//	stargz-peer mount [--insecure HOST] ROOT MOUNTPOINT
//	    stargz-store's layer store (package store): a FUSE file system on
//	    MOUNTPOINT where MOUNTPOINT/<base64 of REF>/<layer digest>/diff is
//	    that layer of the image REF, fetched lazily from its registry and
//	    verified chunk by chunk against the TOC (as stargz-snapshotter
//	    does by default; the TOC against the manifest's annotation).
//	    ROOT holds its caches.  Runs until SIGTERM or SIGINT, then unmounts.
//
// Why this exists: a FUSE lazy loader written for the benchmark could be
// slower (or faster) than the one users run; this is the one users run,
// with its own defaults.  Build: GO111MODULE=off GOPATH=/usr/share/gocode
// go build (tests/bench/stargz/build.sh).
package main

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/containerd/log"
	"github.com/containerd/containerd/reference"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/fs/config"
	"github.com/containerd/stargz-snapshotter/fs/source"
	"github.com/containerd/stargz-snapshotter/metadata/memory"
	"github.com/containerd/stargz-snapshotter/store"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "stargz-peer: "+format+"\n", a...)
	os.Exit(1)
}

// splitRef splits "DIR:TAG".
func splitRef(s string) (string, string) {
	i := strings.LastIndex(s, ":")
	if i < 0 || strings.Contains(s[i+1:], "/") {
		return s, "latest"
	}
	return s[:i], s[i+1:]
}

func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func readJSON(dir string, d digest.Digest, v interface{}) {
	b, err := os.ReadFile(blobPath(dir, d))
	if err != nil {
		die("%v", err)
	}
	if digest.FromBytes(b) != d {
		die("%s: does not match its digest", d)
	}
	if err := json.Unmarshal(b, v); err != nil {
		die("%s: %v", d, err)
	}
}

// putBlob stores the content of r in dir and returns its descriptor.
func putBlob(dir string, r io.Reader, mediaType string) ocispec.Descriptor {
	tmp, err := os.CreateTemp(filepath.Join(dir, "blobs", "sha256"), ".tmp-")
	if err != nil {
		die("%v", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil {
		err = tmp.Close()
	}
	if err != nil {
		die("%v", err)
	}
	d := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
	if err := os.Rename(tmp.Name(), blobPath(dir, d)); err != nil {
		die("%v", err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: n}
}

func putJSON(dir string, v interface{}, mediaType string) ocispec.Descriptor {
	b, err := json.Marshal(v)
	if err != nil {
		die("%v", err)
	}
	return putBlob(dir, strings.NewReader(string(b)), mediaType)
}

// decompressed writes layer l of src, uncompressed, to a temporary file.
func decompressed(src string, l ocispec.Descriptor) *os.File {
	f, err := os.Open(blobPath(src, l.Digest))
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(l.MediaType, "gzip"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			die("%s: %v", l.Digest, err)
		}
		r = gz
	case strings.HasSuffix(l.MediaType, "zstd"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			die("%s: %v", l.Digest, err)
		}
		defer zr.Close()
		r = zr
	}
	tmp, err := os.CreateTemp("", "stargz-peer-")
	if err != nil {
		die("%v", err)
	}
	os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		die("%s: %v", l.Digest, err)
	}
	return tmp
}

func convert(srcArg, dstArg string) {
	src, srcTag := splitRef(srcArg)
	dst, dstTag := splitRef(dstArg)
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(src, "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err != nil {
		die("%s: %v", src, err)
	}
	var mdesc *ocispec.Descriptor
	for i := range idx.Manifests {
		if idx.Manifests[i].Annotations[ocispec.AnnotationRefName] == srcTag {
			mdesc = &idx.Manifests[i]
		}
	}
	if mdesc == nil {
		die("%s: no image tagged %s", src, srcTag)
	}
	var m ocispec.Manifest
	readJSON(src, mdesc.Digest, &m)
	var cfg ocispec.Image
	readJSON(src, m.Config.Digest, &cfg)

	if err := os.MkdirAll(filepath.Join(dst, "blobs", "sha256"), 0755); err != nil {
		die("%v", err)
	}
	cfg.RootFS.DiffIDs = nil
	var layers []ocispec.Descriptor
	for _, l := range m.Layers {
		tar := decompressed(src, l)
		st, err := tar.Stat()
		if err != nil {
			die("%v", err)
		}
		blob, err := estargz.Build(io.NewSectionReader(tar, 0, st.Size()))
		if err != nil {
			die("%s: estargz: %v", l.Digest, err)
		}
		d := putBlob(dst, blob, ocispec.MediaTypeImageLayerGzip)
		blob.Close()
		tar.Close()
		d.Annotations = map[string]string{
			estargz.TOCJSONDigestAnnotation:         blob.TOCDigest().String(),
			estargz.StoreUncompressedSizeAnnotation: fmt.Sprint(st.Size()),
		}
		layers = append(layers, d)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, blob.DiffID())
		fmt.Fprintf(os.Stderr, "stargz-peer: %s -> %s (%d bytes)\n",
			l.Digest, d.Digest, d.Size)
	}
	var list strings.Builder
	for _, l := range layers {
		list.WriteString(l.Digest.String() + "\n")
	}
	cd := putJSON(dst, cfg, ocispec.MediaTypeImageConfig)
	out := ocispec.Manifest{Config: cd, Layers: layers}
	out.SchemaVersion = 2
	out.MediaType = ocispec.MediaTypeImageManifest
	md := putJSON(dst, out, ocispec.MediaTypeImageManifest)
	md.Annotations = map[string]string{ocispec.AnnotationRefName: dstTag}
	oidx := ocispec.Index{Manifests: []ocispec.Descriptor{md}}
	oidx.SchemaVersion = 2
	b, _ = json.Marshal(oidx)
	if err := os.WriteFile(filepath.Join(dst, "index.json"), b, 0644); err != nil {
		die("%v", err)
	}
	os.WriteFile(filepath.Join(dst, "oci-layout"),
		[]byte(`{"imageLayoutVersion":"1.0.0"}`), 0644)
	// the layers' digests, bottom first, for the shell and C of the guest
	os.WriteFile(filepath.Join(dst, "layers.txt"), []byte(list.String()), 0644)
	fmt.Println(md.Digest)
}

func mount(insecure, root, mountpoint string) {
	ctx := context.Background()
	logrus.SetLevel(logrus.WarnLevel)
	hosts := source.RegistryHosts(func(spec reference.Spec) ([]docker.RegistryHost, error) {
		scheme := "https"
		if spec.Hostname() == insecure {
			scheme = "http"
		}
		return []docker.RegistryHost{{
			Client:       &http.Client{Transport: http.DefaultTransport},
			Host:         spec.Hostname(),
			Scheme:       scheme,
			Path:         "/v2",
			Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
		}}, nil
	})
	lm, err := store.NewLayerManager(ctx, root, hosts, memory.NewReader,
		config.Config{NoPrometheus: true})
	if err != nil {
		die("%v", err)
	}
	if err := store.Mount(ctx, mountpoint, lm, false); err != nil {
		die("mount %s: %v", mountpoint, err)
	}
	log.G(ctx).Debugf("mounted %s", mountpoint)
	fmt.Println("ready")
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
	syscall.Unmount(mountpoint, syscall.MNT_DETACH)
}

func main() {
	args := os.Args[1:]
	if len(args) == 3 && args[0] == "convert" {
		convert(args[1], args[2])
		return
	}
	if len(args) >= 3 && args[0] == "mount" {
		insecure := ""
		if len(args) == 5 && args[1] == "--insecure" {
			insecure = args[2]
			args = append(args[:1], args[3:]...)
		}
		if len(args) == 3 {
			mount(insecure, args[1], args[2])
			return
		}
	}
	fmt.Fprintln(os.Stderr, "usage: stargz-peer convert SRC_LAYOUT:TAG DEST_LAYOUT:TAG\n"+
		"       stargz-peer mount [--insecure HOST] ROOT MOUNTPOINT")
	os.Exit(2)
}
