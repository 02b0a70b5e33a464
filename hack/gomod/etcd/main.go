// The etcd server binary: exactly what etcd's own root-module main.go does. The root module
// (go.etcd.io/etcd/v3) is not served by the module proxy at v3.6.16, the server module is.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
