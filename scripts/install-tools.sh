#!/usr/bin/env bash
# Installs every system package and tool Sigil's tests need, idempotently.
# Go tools are built into a cache outside the repo ($SIGIL_TOOLS, default ~/.cache/sigil-tools);
# a tool whose pinned version is already built is skipped, so a second run takes seconds.
#
#   scripts/install-tools.sh            everything
#   scripts/install-tools.sh apt go     only some groups (apt, go, kube, python, npm)
set -euo pipefail

SIGIL_TOOLS="${SIGIL_TOOLS:-$HOME/.cache/sigil-tools}"
BIN="$SIGIL_TOOLS/bin"
mkdir -p "$BIN"
export GOBIN="$BIN" GOFLAGS="${GOFLAGS:--buildvcs=false}"
# Debian's packages: the distribution registry, PostgreSQL, etcd, wrk, openssl for test certificates and
# apache2-utils for htpasswd (bcrypt entries for the registry's basic auth).
APT_PACKAGES=(docker-registry postgresql etcd-server wrk openssl apache2-utils)

# Pinned versions (one place to bump them).
COSIGN_VERSION=v3.1.3
HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
CRANE_VERSION=v0.22.1
KUBERNETES_VERSION=v1.34.4
SIGSTORE_PYTHON_VERSION=4.5.1

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }
say() { printf '[install-tools] %s\n' "$*" >&2; }

install_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt: installing ${missing[*]}"
  local sudo=''
  [ "$(id -u)" -eq 0 ] || sudo='sudo'
  # Keep package post-install scripts from starting system services: tests start their own.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" -eq 1 ] && $sudo rm -f "$policy"
  return 0
}

# go_tool NAME PACKAGE VERSION: `go install` into $BIN unless that version is already there.
go_tool() {
  local name=$1 pkg=$2 version=$3 stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then return 0; fi
  say "go: building $name $version (first time only)"
  local start=$SECONDS
  go install "$pkg@$version"
  echo "$version" >"$stamp"
  say "go: $name built in $((SECONDS - start))s"
}

install_go() {
  go_tool cosign github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION"
  go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
  go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  go_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
  install_referrers_registry
}

# referrers-registry: go-containerregistry's registry with the OCI 1.1 referrers API on, for the tests of
# the referrers path (Debian's docker-registry 2.8 has none, and no released distribution v3 serves it).
# Built from test/tools/referrers-registry/main.go against go-containerregistry at CRANE_VERSION; the
# stamp holds that version and the source's hash, so editing main.go rebuilds it.
install_referrers_registry() {
  local name=referrers-registry stamp="$BIN/.referrers-registry.version" source want
  source="$(repo_root)/test/tools/referrers-registry/main.go"
  want="$CRANE_VERSION $(sha256sum "$source" | cut -c1-16)"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  say "go: building $name (go-containerregistry $CRANE_VERSION)"
  local start=$SECONDS dir="$SIGIL_TOOLS/build/referrers-registry"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$source" "$dir/main.go"
  (
    cd "$dir"
    go mod init sigil.local/referrers-registry >/dev/null 2>&1
    go get "github.com/google/go-containerregistry@$CRANE_VERSION"
    go build -o "$BIN/$name" .
  )
  echo "$want" >"$stamp"
  say "go: $name built in $((SECONDS - start))s"
}

# kube-apiserver from k8s.io/kubernetes: that module replaces its k8s.io/* staging modules with local
# folders, so `go install` refuses it. Build it from a throwaway module that requires it and replaces
# each staging module with the matching v0.x release instead.
install_kube() {
  local name=kube-apiserver stamp="$BIN/.kube-apiserver.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$KUBERNETES_VERSION" ]; then return 0; fi
  say "kube: building kube-apiserver $KUBERNETES_VERSION (first time only; several minutes)"
  local start=$SECONDS dir="$SIGIL_TOOLS/build/kubernetes-$KUBERNETES_VERSION"
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "$dir"
  (
    cd "$dir"
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "module sigil.local/kube-tools"
      echo
      echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" |
        awk -v v="$staging" '{ print "replace " $1 " => " $1 " " v }'
    } >go.mod
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION"
    # Stamp the version the way Kubernetes' own build does (hack/lib/version.sh), so /version is true.
    local pkg=k8s.io/component-base/version minor=${KUBERNETES_VERSION#v1.}
    go build -o "$BIN/kube-apiserver" -ldflags "-X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 \
      -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  echo "$KUBERNETES_VERSION" >"$stamp"
  say "kube: kube-apiserver built in $((SECONDS - start))s"
}

install_python() {
  local venv="$SIGIL_TOOLS/venv" stamp="$SIGIL_TOOLS/venv/.sigstore.version"
  if [ -x "$venv/bin/sigstore" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$SIGSTORE_PYTHON_VERSION" ]; then return 0; fi
  say "python: installing sigstore-python $SIGSTORE_PYTHON_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "sigstore==$SIGSTORE_PYTHON_VERSION"
  echo "$SIGSTORE_PYTHON_VERSION" >"$stamp"
  ln -sf "$venv/bin/sigstore" "$BIN/sigstore-python"
}

install_npm() {
  local root stamp
  root=$(repo_root)
  stamp="$root/node_modules/.sigil-lock-hash"
  local want
  want=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "npm: installing dependencies"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(apt npm go kube python)
for group in "${groups[@]}"; do
  case "$group" in
    apt) install_apt ;;
    go) install_go ;;
    kube) install_kube ;;
    python) install_python ;;
    npm) install_npm ;;
    *) say "unknown group '$group' (expected apt, npm, go, kube, python)"; exit 2 ;;
  esac
done
say "tools ready in $BIN"
