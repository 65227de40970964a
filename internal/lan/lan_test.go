package lan

import (
	"net"
	"slices"
	"strings"
	"testing"
)

func ipNet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestLanPick(t *testing.T) {
	up := net.FlagUp | net.FlagBroadcast | net.FlagMulticast
	list := []iface{
		{flags: up | net.FlagLoopback, addrs: []net.Addr{ipNet("127.0.0.1/8"), ipNet("::1/128")}},
		{flags: up, addrs: []net.Addr{
			ipNet("fe80::1c2d:3eff:fe4f:5a6b/64"), // link-local: not reachable by address alone
			ipNet("2001:db8::10/64"),
			ipNet("192.168.1.10/24"),
			ipNet("169.254.7.7/16"),
		}},
		{flags: net.FlagBroadcast, addrs: []net.Addr{ipNet("10.9.9.9/8")}}, // down
		{flags: up, addrs: []net.Addr{ipNet("10.0.0.5/8"), ipNet("fd00::5/64"), &net.IPAddr{IP: net.ParseIP("192.168.1.10")}}},
	}
	var got []string
	for _, ip := range pick(list) {
		got = append(got, ip.String())
	}
	want := []string{"192.168.1.10", "10.0.0.5", "2001:db8::10", "fd00::5"}
	if !slices.Equal(got, want) {
		t.Fatalf("pick = %v, want %v", got, want)
	}
}

func TestLanOrigins(t *testing.T) {
	addrs := func() []net.IP {
		return []net.IP{net.ParseIP("192.168.1.10").To4(), net.ParseIP("10.0.0.5").To4(), net.ParseIP("2001:db8::10")}
	}
	for _, c := range []struct {
		listen string
		want   []string
	}{
		{":8765", []string{"http://192.168.1.10:8765", "http://10.0.0.5:8765", "http://[2001:db8::10]:8765"}},
		{"[::]:8765", []string{"http://192.168.1.10:8765", "http://10.0.0.5:8765", "http://[2001:db8::10]:8765"}},
		{"0.0.0.0:8765", []string{"http://192.168.1.10:8765", "http://10.0.0.5:8765"}},
		{"192.168.1.10:9000", []string{"http://192.168.1.10:9000"}},
		{"[2001:DB8:0::10]:8765", []string{"http://[2001:db8::10]:8765"}},
		{"MyBox.Local:8765", []string{"http://mybox.local:8765"}},
		{":80", []string{"http://192.168.1.10", "http://10.0.0.5", "http://[2001:db8::10]"}},
		{"[2001:db8::10]:80", []string{"http://[2001:db8::10]"}},
		{"8765", nil},
		{"host:", nil},
	} {
		if got := origins(c.listen, addrs); !slices.Equal(got, c.want) {
			t.Errorf("origins(%q) = %v, want %v", c.listen, got, c.want)
		}
	}
}

// TestLanAddressesOfThisMachine checks what the real interfaces give: never
// a loopback or link-local address, IPv4 before IPv6, and one origin per
// address for a listen address without a host.
func TestLanAddressesOfThisMachine(t *testing.T) {
	addrs := Addresses()
	t.Logf("addresses: %v", addrs)
	sawV6 := false
	for _, ip := range addrs {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			t.Errorf("%s should not be offered to another device", ip)
		}
		if ip.To4() == nil {
			sawV6 = true
		} else if sawV6 {
			t.Errorf("IPv4 address %s listed after an IPv6 one: %v", ip, addrs)
		}
	}
	origins := Origins(":8765")
	if len(origins) != len(addrs) {
		t.Fatalf("Origins(:8765) = %v for addresses %v", origins, addrs)
	}
	for _, o := range origins {
		if !strings.HasPrefix(o, "http://") || !strings.HasSuffix(o, ":8765") {
			t.Errorf("origin %q", o)
		}
	}
}
