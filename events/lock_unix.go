//go:build unix

package events

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrDataDirInUse is returned when another process runs an embedded server on the data dir.
var ErrDataDirInUse = errors.New("events: data_dir is in use by another newswatch process")

// lockDataDir takes an exclusive lock on the data directory: two embedded servers on one store
// would corrupt it. The lock ends with the process, however it ends.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "newswatch.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s); stop it, or use its NATS via nats.listen", ErrDataDirInUse, dir)
		}
		return nil, fmt.Errorf("data_dir lock: %w", err)
	}
	return f, nil
}
