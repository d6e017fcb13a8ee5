package slotstore

import "errors"

var (
	// ErrBadDataInfoID is returned for a dataInfoId that is not dataId#@#instanceId#@#group.
	ErrBadDataInfoID = errors.New("bad data info id")
	// ErrBadSlotCount is returned for a slot count that is not a positive power of two.
	ErrBadSlotCount = errors.New("slot count is not a positive power of two")
	// ErrBadSlotTable is returned for a slot table whose slots do not cover 0..n-1 exactly once.
	ErrBadSlotTable = errors.New("bad slot table")
)
