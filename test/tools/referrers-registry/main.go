// Command referrers-registry serves go-containerregistry's registry (pkg/registry) with the OCI 1.1
// referrers API enabled, for the tests of Sigil's referrers path.
//
// Debian's docker-registry (distribution 2.8) has no referrers API, and no released distribution
// (v3.1.2 is the newest) serves it either; `crane registry serve` runs this same registry but leaves
// referrers off. scripts/install-tools.sh builds this file against go-containerregistry at
// CRANE_VERSION.
//
// That registry's referrers listing falls short of the distribution spec v1.1 in three ways, which
// this file completes in front of it (everything else is served by go-containerregistry unchanged):
//   - a descriptor's artifactType is the referrer's config.mediaType even when the manifest has its
//     own artifactType (spec "Listing Referrers": the manifest's artifactType, else config.mediaType);
//   - `?artifactType=` is ignored (spec: filter, and say so with `OCI-Filters-Applied: artifactType`);
//   - a manifest PUT with a subject gets no `OCI-Subject` header (spec "Pushing Manifests with Subject").
//
// Storage is in memory: whatever a test pushes is gone when the process exits.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxManifestBytes bounds a manifest body read here (the distribution spec suggests 4 MiB).
const maxManifestBytes = 4 << 20

func main() {
	address := flag.String("address", "127.0.0.1:0", "host:port to listen on")
	quiet := flag.Bool("quiet", false, "do not log each request")
	flag.Parse()

	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalln(err)
	}
	requests := log.New(os.Stderr, "", log.LstdFlags)
	if *quiet {
		requests = log.New(io.Discard, "", 0)
	}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(requests))
	server := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: referrers{inner}}
	log.Printf("serving on %s", listener.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		log.Fatalln(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalln(err)
	}
}

// referrers completes the inner registry's referrers support; every other request passes through.
type referrers struct{ inner http.Handler }

func (h referrers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, kind, _, ok := splitPath(r.URL.Path)
	switch {
	case ok && kind == "referrers" && r.Method == http.MethodGet:
		h.listReferrers(w, r, name)
	case ok && kind == "manifests" && r.Method == http.MethodPut:
		h.putManifest(w, r)
	default:
		h.inner.ServeHTTP(w, r)
	}
}

// splitPath splits `/v2/<name>/<kind>/<reference>`.
func splitPath(path string) (name, kind, reference string, ok bool) {
	elems := strings.Split(strings.TrimPrefix(path, "/v2/"), "/")
	if !strings.HasPrefix(path, "/v2/") || len(elems) < 3 {
		return "", "", "", false
	}
	n := len(elems)
	return strings.Join(elems[:n-2], "/"), elems[n-2], elems[n-1], true
}

// listReferrers serves the inner listing with each descriptor's artifactType read from the
// referrer itself, sorted by digest, and filtered by `?artifactType=` when asked.
func (h referrers) listReferrers(w http.ResponseWriter, r *http.Request, name string) {
	listing := httptest.NewRecorder()
	h.inner.ServeHTTP(listing, r)
	if listing.Code != http.StatusOK {
		copyResponse(w, listing)
		return
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(listing.Body.Bytes(), &index); err != nil {
		http.Error(w, fmt.Sprintf("referrers listing: %v", err), http.StatusInternalServerError)
		return
	}
	filter := r.URL.Query().Get("artifactType")
	kept := []v1.Descriptor{}
	for _, descriptor := range index.Manifests {
		descriptor.ArtifactType = h.artifactType(r.Context(), name, descriptor)
		if filter == "" || descriptor.ArtifactType == filter {
			kept = append(kept, descriptor)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Digest.String() < kept[j].Digest.String() })
	index.Manifests = kept
	body, err := json.Marshal(index)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", string(index.MediaType))
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// artifactType is the referrer manifest's artifactType, else its config.mediaType.
func (h referrers) artifactType(ctx context.Context, name string, descriptor v1.Descriptor) string {
	request := httptest.NewRequest(http.MethodGet, "/v2/"+name+"/manifests/"+descriptor.Digest.String(), nil)
	manifest := httptest.NewRecorder()
	h.inner.ServeHTTP(manifest, request.WithContext(ctx))
	var fields struct {
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
	}
	if manifest.Code != http.StatusOK || json.Unmarshal(manifest.Body.Bytes(), &fields) != nil {
		return descriptor.ArtifactType
	}
	if fields.ArtifactType != "" {
		return fields.ArtifactType
	}
	return fields.Config.MediaType
}

// putManifest passes the PUT through and, when it is stored and names a subject, answers OCI-Subject.
func (h referrers) putManifest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestBytes+1))
	if err != nil || len(body) > maxManifestBytes {
		http.Error(w, "manifest unreadable or larger than 4 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var fields struct {
		Subject *struct {
			Digest string `json:"digest"`
		} `json:"subject"`
	}
	subject := ""
	if json.Unmarshal(body, &fields) == nil && fields.Subject != nil {
		subject = fields.Subject.Digest
	}
	h.inner.ServeHTTP(subjectHeader{ResponseWriter: w, subject: subject}, r)
}

// subjectHeader adds `OCI-Subject` to a 201 Created answer.
type subjectHeader struct {
	http.ResponseWriter
	subject string
}

func (s subjectHeader) WriteHeader(status int) {
	if status == http.StatusCreated && s.subject != "" {
		s.Header().Set("OCI-Subject", s.subject)
	}
	s.ResponseWriter.WriteHeader(status)
}

func copyResponse(w http.ResponseWriter, recorded *httptest.ResponseRecorder) {
	for key, values := range recorded.Header() {
		w.Header()[key] = values
	}
	w.WriteHeader(recorded.Code)
	_, _ = w.Write(recorded.Body.Bytes())
}
