package transport

import "os"

// symlinkAtomic points link at target, replacing an older link in one step.
func symlinkAtomic(target, link string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}
