package winname

import "testing"

func TestProblem(t *testing.T) {
	for name, bad := range map[string]bool{
		"CON": true, "con.png": true, "aux.png": true, "Nul.tar.gz": true, "COM1.jpg": true, "lpt9": true,
		"COM¹.png": true, "conin$.txt": true, "trailing.": true, "space.png ": true, "CON .png": true,
		"console.png": false, "COM0.png": true, "COM10.png": false, "a.png": false, "auxiliary.png": false,
		"Screenshot 2026-11-29 at 09.46.52.png": false, ".hidden": false, "": false,
	} {
		if got := Problem(name) != ""; got != bad {
			t.Errorf("%q: problem %v, want %v (%q)", name, got, bad, Problem(name))
		}
	}
}
