package proto

// Sizes of encodings, so that a frame is built in a buffer of the right
// size: appending to a growing one costs a copy per doubling, and a frame
// kept for fan-out would keep the unused capacity.

func sizeUvarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func sizeVarint(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return sizeUvarint(u)
}

func sizeString(s string) int { return sizeUvarint(uint64(len(s))) + len(s) }

func sizeStrings(ss []string) int {
	n := sizeUvarint(uint64(len(ss)))
	for _, s := range ss {
		n += sizeString(s)
	}
	return n
}

// Size is the length of the body AppendBody writes.
func (m *Publisher) Size() int {
	n := sizeString(m.DataInfoID) + sizeString(m.RegisterID) + sizeStrings(m.Data) +
		sizeString(m.Zone) + sizeString(m.AppName) + sizeString(m.ClientIP) + sizeUvarint(uint64(len(m.Attrs)))
	for _, a := range m.Attrs {
		n += sizeString(a.Key) + sizeString(a.Value)
	}
	return n + sizeUvarint(m.Version) + sizeVarint(m.RegisterTimestamp)
}

// Size is the length of the body AppendBody writes.
func (m *Datum) Size() int {
	n := sizeString(m.DataInfoID) + sizeUvarint(m.Version) + sizeUvarint(uint64(len(m.Publishers)))
	for i := range m.Publishers {
		n += m.Publishers[i].Size()
	}
	return n
}

// Size is the length of the body AppendBody writes.
func (m *Push) Size() int {
	n := sizeString(m.DataInfoID) + sizeString(m.Zone) + sizeUvarint(m.Version) + sizeUvarint(m.BaseVersion) +
		sizeUvarint(uint64(len(m.Publishers)))
	for i := range m.Publishers {
		p := &m.Publishers[i]
		n += sizeString(p.RegisterID) + sizeString(p.Zone) + sizeUvarint(p.Version) + sizeStrings(p.Data)
	}
	n += sizeStrings(m.Removed) + sizeUvarint(uint64(m.Count)) + 8
	if m.WithDataCenters {
		names := m.dataCenterNames()
		n += 1 + sizeStrings(names)
		for i := range m.Publishers {
			n += sizeUvarint(uint64(indexOf(names, m.Publishers[i].DataCenter)))
		}
	}
	if !m.WithAttrs {
		if m.WithDataCenters {
			n++ // the empty attributes part
		}
		return n
	}
	k := 0
	for i := range m.Publishers {
		attrs := m.Publishers[i].Attrs
		if len(attrs) == 0 {
			continue
		}
		k++
		n += sizeUvarint(uint64(i)) + sizeUvarint(uint64(len(attrs)))
		for _, a := range attrs {
			n += sizeString(a.Key) + sizeString(a.Value)
		}
	}
	if k == 0 && !m.WithDataCenters {
		return n
	}
	return n + sizeUvarint(uint64(k))
}

// Size is the length of the body AppendBody writes. A data node's notice of
// a storm's changes names thousands of datums: built in a growing buffer,
// it was copied at each doubling.
func (m *ChangeNotify) Size() int {
	n := sizeUvarint(uint64(len(m.Changes)))
	hashed := false
	for _, c := range m.Changes {
		n += sizeString(c.DataInfoID) + sizeUvarint(c.Version)
		hashed = hashed || c.Hash != 0
	}
	if hashed {
		n += 8 * len(m.Changes)
	}
	return n
}

// Size is the length of the body AppendBody writes. A session forwards up
// to 2,048 writes in one batch, and a slot leader streams what it applied
// to its followers: built in a growing buffer, a storm's batches were
// copied at each doubling (a fifth of a data node's allocation in a storm).
func (m *WriteBatch) Size() int {
	n := sizeString(m.SessionID) + sizeUvarint(m.SlotTableEpoch) + 1 + sizeUvarint(uint64(len(m.Ops)))
	for i := range m.Ops {
		n += 1 + m.Ops[i].Publisher.Size()
	}
	return n + sizeOwners(len(m.Ops), func(i int) Owner { return m.Ops[i].Publisher.Owner })
}

// sizeOwners is the length of what appendOwners writes.
func sizeOwners(n int, owner func(i int) Owner) int {
	for i := range n {
		if !owner(i).IsZero() {
			return sizeUvarint(uint64(n)) + OwnerLen*n
		}
	}
	return 0
}

// Size is the length of the body AppendBody writes. A session answers a
// data node's sync with every publisher it holds of the datums that
// differ (every datum of a slot after a data node lost it): built in a
// growing buffer, the reply was copied at every doubling.
func (m *SlotDiff) Size() int {
	n := sizeUvarint(uint64(m.Slot)) + sizeUvarint(uint64(len(m.Publishers)))
	for i := range m.Publishers {
		n += m.Publishers[i].Size()
	}
	owners := sizeOwners(len(m.Publishers), func(i int) Owner { return m.Publishers[i].Owner })
	if len(m.Owners) > 0 || owners > 0 {
		n += sizeStrings(m.Owners)
	}
	return n + owners
}

// Size is the length of the body AppendBody writes. A session's version
// scan declares 4,096 ids a request, with the version and hash it holds of
// each (~230 KB): built in a growing buffer, each was copied at every
// doubling; at its size it fits a pooled chunk.
func (m *Interest) Size() int {
	n := 1 + sizeStrings(m.Add) + sizeStrings(m.Remove)
	if len(m.Known) > 0 {
		n += sizeUvarint(uint64(len(m.Known)))
		for _, k := range m.Known {
			n += sizeUvarint(k.Version) + sizeUvarint(k.Hash)
		}
	}
	return n
}
