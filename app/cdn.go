package app

import (
	"context"
	"fmt"
	"time"

	"upshot/internal/cdn"
	"upshot/uploader"
)

// keepRenewed renews a private bucket's download authorization (token
// mode) while the window runs, following new settings; problems show in
// the status line. UI thread only.
func (u *ui) keepRenewed(cfg *uploader.Config) {
	if u.renewCancel != nil {
		u.renewCancel()
		u.renewCancel = nil
	}
	if cfg == nil || !cfg.CDN.Private || cfg.CDN.Auth != uploader.CDNToken {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	u.renewCancel = cancel
	_, up := u.core.Settings()
	go func() {
		s, err := cdn.FromConfig(ctx, cfg, up, u.core.DataDir(), true)
		if err != nil {
			u.edge.Post(func() {
				u.showError(fmt.Errorf("the private bucket's download authorization will not be renewed: %w", err))
			})
			return
		}
		s.KeepRenewed(ctx, func(exp time.Time, err error) {
			u.edge.Post(func() {
				if err != nil {
					u.showError(fmt.Errorf("renewing the private bucket's download authorization: %w (tried again in an hour)", err))
					return
				}
				u.note("Renewed the private bucket's download authorization, until " + exp.Local().Format("2006-01-02 15:04"))
			})
		})
	}()
}
