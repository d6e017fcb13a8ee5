package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roster-registry/roster/proto"
)

func (s *sqlStore) SaveSlotTable(ctx context.Context, t *proto.SlotTable, fence uint64) error {
	if t == nil {
		return fmt.Errorf("cannot save slot table: %w: nil table", ErrInvalid)
	}
	data := t.AppendBody(nil)
	return s.fenced(ctx, fence, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.saveSlotTable, t.Epoch, fence, data, t.Epoch, t.Epoch, data)
		if err != nil {
			return fmt.Errorf("cannot save slot table epoch %d: %w", t.Epoch, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("cannot save slot table epoch %d: %w", t.Epoch, err)
		}
		if n == 0 {
			return fmt.Errorf("cannot save slot table epoch %d: %w", t.Epoch, ErrStaleEpoch)
		}
		return nil
	})
}

func (s *sqlStore) LoadSlotTable(ctx context.Context) (*proto.SlotTable, error) {
	var (
		epoch uint64
		data  []byte
	)
	err := s.db.QueryRowContext(ctx, s.q.loadSlotTable).Scan(&epoch, &data)
	if errors.Is(err, sql.ErrNoRows) || err == nil && epoch == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot load slot table: %w", err)
	}
	t := new(proto.SlotTable)
	if err := t.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("cannot decode stored slot table epoch %d: %w", epoch, err)
	}
	if t.Epoch != epoch {
		return nil, fmt.Errorf("cannot load slot table: stored epoch %d holds a table of epoch %d", epoch, t.Epoch)
	}
	return t, nil
}
