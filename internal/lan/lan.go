// Package lan finds the addresses at which other devices on the local
// network (a phone on the same Wi-Fi) can reach this computer, and the web
// origins a page served on them has.
//
// Its functions read the network interfaces each time they are called;
// they are safe for concurrent use.
package lan

import (
	"net"
	"strings"
)

// Addresses returns this computer's unicast addresses on interfaces that
// are up: IPv4 first, then IPv6, each in the order the system lists them.
// Loopback and link-local addresses (169.254.0.0/16, fe80::/10) are left
// out: another device cannot use them to open a page. It returns nil when
// the interfaces cannot be read.
func Addresses() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var list []iface
	for _, i := range ifaces {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		list = append(list, iface{flags: i.Flags, addrs: addrs})
	}
	return pick(list)
}

// iface is what Addresses reads from one network interface.
type iface struct {
	flags net.Flags
	addrs []net.Addr
}

// pick keeps the addresses another device can reach, IPv4 first, without
// repeats.
func pick(list []iface) []net.IP {
	var v4, v6 []net.IP
	seen := map[string]bool{}
	for _, i := range list {
		if i.flags&net.FlagUp == 0 || i.flags&net.FlagLoopback != 0 {
			continue
		}
		for _, a := range i.addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			if !reachable(ip) || seen[ip.String()] {
				continue
			}
			seen[ip.String()] = true
			if v := ip.To4(); v != nil {
				v4 = append(v4, v)
			} else {
				v6 = append(v6, ip)
			}
		}
	}
	return append(v4, v6...)
}

// reachable reports whether ip can be the address of a page that another
// device on the network opens.
func reachable(ip net.IP) bool {
	return ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!ip.IsMulticast() && !ip.IsInterfaceLocalMulticast()
}

// Origins returns the web origins ("http://192.168.1.10:8765") of a page
// served on listen, an address as net.Listen takes it. When listen names
// one host, that host is the only origin. When it names none (":8765", or
// "[::]:8765"), every address from [Addresses] gives one; "0.0.0.0:8765"
// gives the IPv4 ones only. The port is left out when it is 80, as
// browsers write such an origin. It returns nil when listen has no port.
func Origins(listen string) []string {
	return origins(listen, Addresses)
}

func origins(listen string, addresses func() []net.IP) []string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return nil
	}
	var hosts []string
	switch ip := net.ParseIP(host); {
	case host == "" || host == "::":
		for _, a := range addresses() {
			hosts = append(hosts, a.String())
		}
	case host == "0.0.0.0":
		for _, a := range addresses() {
			if a.To4() != nil {
				hosts = append(hosts, a.String())
			}
		}
	case ip != nil:
		hosts = []string{ip.String()}
	default:
		hosts = []string{strings.ToLower(host)}
	}
	var out []string
	for _, h := range hosts {
		if port == "80" {
			if strings.Contains(h, ":") {
				h = "[" + h + "]"
			}
			out = append(out, "http://"+h)
			continue
		}
		out = append(out, "http://"+net.JoinHostPort(h, port))
	}
	return out
}
