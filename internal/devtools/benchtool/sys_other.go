//go:build !linux

package main

import (
	"context"
	"errors"
	"os"
	"time"
)

// buildRSSWrapper exists only on Linux.
func buildRSSWrapper(context.Context, string) (string, error) {
	return "", errors.New("peak RSS is measured on Linux only")
}

// peakRSS is unknown off Linux; the report shows 0.
func peakRSS(*os.ProcessState) int64 { return 0 }

// monoNow is unused off Linux, where there is no wrapper.
func monoNow() int64 { return 0 }

// serverPID is unknown off Linux.
func serverPID() int { return 0 }

// processCPU is unknown off Linux.
func processCPU(int) time.Duration { return 0 }
