// etcd server for the local DR lab, built from Go modules (see go.mod).
// Equivalent to go.etcd.io/etcd/server/v3's own main: it just hands the
// command line to etcdmain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
