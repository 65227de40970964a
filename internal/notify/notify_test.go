package notify

import "testing"

func TestAppleScriptQuotes(t *testing.T) {
	got := appleScript(`Uploaded "a\b"`, "line one\nline two")
	want := `display notification "line one line two" with title "Uploaded \"a\\b\""`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
