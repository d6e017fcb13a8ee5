package slotstore

import "errors"

var (
	// ErrBadDataInfoID is returned for a dataInfoId that is not dataId#@#instanceId#@#group.
	ErrBadDataInfoID = errors.New("bad data info id")
	// ErrBadSlotCount is returned for a slot count that is not a positive power of two.
	ErrBadSlotCount = errors.New("slot count is not a positive power of two")
	// ErrBadSlotTable is returned for a slot table whose slots do not cover 0..n-1 exactly once.
	ErrBadSlotTable = errors.New("bad slot table")
	// ErrOwned refuses a write of a registerId that belongs to another
	// client (see proto.Owner).
	ErrOwned = errors.New("registerId owned by another client")
	// ErrVersionRange refuses a write whose version is over
	// proto.MaxPublisherVersion or too far ahead (proto.MaxVersionStep).
	ErrVersionRange = errors.New("publisher version out of range")
)
