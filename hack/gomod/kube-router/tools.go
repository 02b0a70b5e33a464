//go:build tools

// Package tools pins kube-router's command for `go build` in this wrapper module: `go install
// module@version` asks the proxy for the module's version list (a deprecation check), which the
// Go module proxy here refuses for kube-router.
package tools

import _ "github.com/cloudnativelabs/kube-router/cmd/kube-router"
