// Command wintool does what Upshot's Windows tests need a Windows program
// for, run under Wine beside upshot.exe:
//
//	wintool hold FILE SIZE     create FILE locked against every other
//	                           program (share mode 0), write half of SIZE
//	                           random bytes, print "held", wait for a line
//	                           on stdin, write the rest, close, print "closed"
//	wintool cred USER SECRET   store SECRET for USER under Upshot's name in
//	                           Credential Manager, as the window does
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wintool:", err)
		os.Exit(1)
	}
}
