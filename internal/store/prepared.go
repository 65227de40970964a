package store

import (
	"context"
	"database/sql"
	"sync"
)

// statements holds the hot queries, each compiled once: compiling SQL
// costs more CPU than running these small statements.
type statements struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns query prepared on db; database/sql prepares it again on each
// connection it runs on, once.
func (p *statements) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.m[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if p.m == nil {
		p.m = map[string]*sql.Stmt{}
	}
	p.m[query] = st
	return st, nil
}

func (p *statements) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.m {
		_ = st.Close()
	}
	p.m = nil
}

// queryRow runs a prepared query in tx, or outside any transaction when tx
// is nil. A query that does not prepare runs unprepared, so its error
// comes back through the row as usual.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := s.stmts.get(ctx, s.db, query)
	switch {
	case err != nil && tx != nil:
		return tx.QueryRowContext(ctx, query, args...)
	case err != nil:
		return s.db.QueryRowContext(ctx, query, args...)
	case tx != nil:
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// exec runs a prepared statement in tx.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.stmts.get(ctx, s.db, query)
	if err != nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}
