// Package errors stands in for github.com/pkg/errors v0.9.1, which the harness may not
// download: the four functions Bytebase 1.12's webhook package calls, over the standard
// library. Only error texts depend on it, and the harness fails on any error.
package errors

import (
	stderrors "errors"
	"fmt"
)

// New is errors.New.
func New(message string) error { return stderrors.New(message) }

// Errorf is fmt.Errorf.
func Errorf(format string, args ...interface{}) error { return fmt.Errorf(format, args...) }

// Wrap annotates err with message, as pkg/errors does ("message: err"); nil stays nil.
func Wrap(err error, message string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", message, err)
}

// Wrapf is Wrap with a format.
func Wrapf(err error, format string, args ...interface{}) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
