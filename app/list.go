package app

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"upshot/internal/core"
	"upshot/internal/store"
)

// pageSize is how many history entries are read at a time: a screenful
// and then some, so the first paint reads little however long the history.
const pageSize = 100

// historyReader is what the list reads from the store.
type historyReader interface {
	History(ctx context.Context, q store.Query) ([]store.Entry, error)
	Jobs(ctx context.Context, st store.State, limit int) ([]store.Job, error)
}

// pendingJob is an upload not yet in the history: queued, uploading,
// failed (retried later) or rejected (retried only by the user).
type pendingJob struct {
	job         store.Job
	state       store.State
	sent, total int64
	err         string
	retryAt     time.Time
}

// item is one row of the list: a pending job, or a history entry.
type item struct {
	job   *pendingJob // nil for history entries
	entry store.Entry
}

// historyModel is what the list shows: the uploads in flight, newest
// first, then the history, newest first, read a page at a time and
// filtered by the search text. It belongs to the UI thread.
type historyModel struct {
	st     historyReader
	search string

	jobs  []*pendingJob // every pending job, newest first
	byJob map[int64]*pendingJob
	shown []*pendingJob // jobs matching search

	rows        []store.Entry // history read so far
	more        bool          // the history may have more rows
	loadPending bool          // a loadMore is queued
}

func newHistoryModel(st historyReader) *historyModel {
	return &historyModel{st: st, byJob: map[int64]*pendingJob{}}
}

func (m *historyModel) len() int { return len(m.shown) + len(m.rows) }

func (m *historyModel) at(i int) (item, bool) {
	switch {
	case i < 0 || i >= m.len():
		return item{}, false
	case i < len(m.shown):
		return item{job: m.shown[i]}, true
	}
	return item{entry: m.rows[i-len(m.shown)]}, true
}

// loadJobs reads the pending jobs from the store, for the start.
func (m *historyModel) loadJobs(ctx context.Context) error {
	var all []store.Job
	for _, st := range []store.State{store.StateQueued, store.StateUploading, store.StateFailed, store.StateRejected} {
		js, err := m.st.Jobs(ctx, st, 1000)
		if err != nil {
			return err
		}
		all = append(all, js...)
	}
	slices.SortFunc(all, func(a, b store.Job) int { return int(b.ID - a.ID) })
	m.jobs, m.byJob = nil, map[int64]*pendingJob{}
	for _, j := range all {
		p := &pendingJob{job: j, state: j.State, err: j.LastError, retryAt: j.NextAttempt, total: j.Size}
		m.jobs = append(m.jobs, p)
		m.byJob[j.ID] = p
	}
	m.filterJobs()
	return nil
}

// reload reads the first page of history for the current search.
func (m *historyModel) reload(ctx context.Context) error {
	rows, err := m.st.History(ctx, store.Query{Search: m.search, Limit: pageSize})
	if err != nil {
		return err
	}
	m.rows, m.more = rows, len(rows) == pageSize
	m.filterJobs()
	return nil
}

// loadMore reads the next page of history.
func (m *historyModel) loadMore(ctx context.Context) error {
	m.loadPending = false
	if !m.more {
		return nil
	}
	rows, err := m.st.History(ctx, store.Query{Search: m.search, Limit: pageSize, Offset: len(m.rows)})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !slices.ContainsFunc(m.rows, func(e store.Entry) bool { return e.ID == r.ID }) {
			m.rows = append(m.rows, r)
		}
	}
	m.more = len(rows) == pageSize
	return nil
}

// nearEnd reports whether showing row i should read the next page.
func (m *historyModel) nearEnd(i int) bool {
	return m.more && !m.loadPending && i >= m.len()-pageSize/4
}

func (m *historyModel) filterJobs() {
	m.shown = m.shown[:0]
	for _, j := range m.jobs {
		if matches(m.search, j.job.Path, "", "") {
			m.shown = append(m.shown, j)
		}
	}
}

// matches is Query.Search's rule: the name, key or URL contains the
// search text, ignoring case.
func matches(search, file, key, url string) bool {
	if search == "" {
		return true
	}
	return strings.Contains(strings.ToLower(filepath.Base(file)+"\n"+key+"\n"+url), strings.ToLower(search))
}

// apply updates the model with one event. It reports whether the rows
// changed (rather than just a row's progress).
func (m *historyModel) apply(ev core.Event) (changed bool) {
	j := m.byJob[ev.Job.ID]
	switch ev.Kind {
	case core.Queued, core.Started:
		if j == nil {
			j = &pendingJob{job: ev.Job}
			m.byJob[ev.Job.ID] = j
			m.jobs = slices.Insert(m.jobs, 0, j)
			m.filterJobs()
			changed = true
		}
		j.state, j.err, j.sent, j.total = store.StateQueued, "", 0, ev.Job.Size
		if ev.Kind == core.Started {
			j.state = store.StateUploading
		}
	case core.Progress:
		if j != nil {
			j.state, j.sent, j.total = store.StateUploading, ev.Sent, ev.Total
		}
	case core.Failed, core.Rejected:
		if j == nil {
			j = &pendingJob{job: ev.Job}
			m.byJob[ev.Job.ID] = j
			m.jobs = slices.Insert(m.jobs, 0, j)
			m.filterJobs()
			changed = true
		}
		j.state, j.err, j.retryAt = store.StateFailed, errText(ev.Err), ev.RetryAt
		if ev.Kind == core.Rejected {
			j.state = store.StateRejected
		}
	case core.Done:
		if j != nil {
			delete(m.byJob, ev.Job.ID)
			m.jobs = slices.DeleteFunc(m.jobs, func(p *pendingJob) bool { return p == j })
			m.filterJobs()
			changed = true
		}
		e := ev.Entry
		if matches(m.search, e.File, e.Key, e.URL) && !slices.ContainsFunc(m.rows, func(r store.Entry) bool { return r.ID == e.ID }) {
			// In the store's order (newest first, then highest ID): uploads
			// finishing together may report out of that order.
			i := slices.IndexFunc(m.rows, func(r store.Entry) bool { return newer(e, r) })
			if i < 0 {
				i = len(m.rows)
			}
			m.rows = slices.Insert(m.rows, i, e)
			changed = true
		}
	case core.LinkChecked:
		if i := slices.IndexFunc(m.rows, func(r store.Entry) bool { return r.ID == ev.Entry.ID }); i >= 0 {
			m.rows[i].LinkStatus = ev.Entry.LinkStatus
			changed = true
		}
	}
	return changed
}

// newer reports whether a comes before b in the history's order.
func newer(a, b store.Entry) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.ID > b.ID
}

// removeKey drops history rows whose object has key (after a delete).
func (m *historyModel) removeKey(key string) {
	m.rows = slices.DeleteFunc(m.rows, func(e store.Entry) bool { return e.Key == key })
}

// errText is an error's message on one line.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// humanTime writes when something happened, relative to now: "10:15",
// "Yesterday 10:15", "Mon 10:15" within a week, else "22 Nov 2026".
func humanTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t, now = t.Local(), now.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	today := time.Date(y2, m2, d2, 0, 0, 0, 0, time.Local)
	day := time.Date(y1, m1, d1, 0, 0, 0, 0, time.Local)
	switch days := int(today.Sub(day).Hours() / 24); {
	case days == 0:
		return t.Format("15:04")
	case days == 1:
		return "Yesterday " + t.Format("15:04")
	case days > 1 && days < 7:
		return t.Format("Mon 15:04")
	}
	return t.Format("2 Jan 2006")
}
