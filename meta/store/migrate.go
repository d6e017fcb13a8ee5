package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations is the schema's history, in order; migration i (from 0) brings
// the schema to version i+1. Never edit an applied one: append. Keep them
// additive (an older binary must still run on the newer schema) and
// idempotent (on MySQL a crash can interrupt one half-applied, since DDL is
// not transactional there).
var migrations = [][]string{
	{
		`CREATE TABLE IF NOT EXISTS leader_lease (
			name {key} NOT NULL PRIMARY KEY,
			owner {key} NOT NULL,
			epoch BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		){table_options}`,
		`CREATE TABLE IF NOT EXISTS write_fence (
			id INTEGER NOT NULL PRIMARY KEY,
			fence BIGINT NOT NULL
		){table_options}`,
		`{insert_ignore} INTO write_fence (id, fence) VALUES (1, 0)`,
		// One row, seeded with epoch 0 ("no table"), so saving is a plain
		// conditional UPDATE in both dialects.
		`CREATE TABLE IF NOT EXISTS slot_table (
			id INTEGER NOT NULL PRIMARY KEY,
			epoch BIGINT NOT NULL,
			fence BIGINT NOT NULL,
			data {blob} NOT NULL
		){table_options}`,
		`{insert_ignore} INTO slot_table (id, epoch, fence, data) VALUES (1, 0, 0, '')`,
		`CREATE TABLE IF NOT EXISTS config (
			k {key} NOT NULL PRIMARY KEY,
			v {blob} NOT NULL,
			fence BIGINT NOT NULL,
			updated_at BIGINT NOT NULL
		){table_options}`,
	},
}

const createSchemaVersion = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER NOT NULL PRIMARY KEY,
	applied_at BIGINT NOT NULL
){table_options}`

// migrate brings the schema up to date. Several processes may run it at once:
// the dialect's lock (or SQLite's write transaction) serialises them, and each
// migration re-reads the version inside its transaction.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("cannot get a connection to migrate: %w", err)
	}
	defer c.Close()
	if d.lockSchema != nil {
		unlock, err := d.lockSchema(ctx, c)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if _, err := c.ExecContext(ctx, d.expand(createSchemaVersion)); err != nil {
		return fmt.Errorf("cannot create schema_version: %w", err)
	}
	for i, stmts := range migrations {
		if err := applyMigration(ctx, c, d, i+1, stmts); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, c *sql.Conn, d *dialect, version int, stmts []string) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot begin migration %d: %w", version, err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("cannot read schema version: %w", err)
	}
	if current >= version {
		return nil
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, d.expand(s)); err != nil {
			return fmt.Errorf("cannot apply migration %d: %w", version, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.expand(`INSERT INTO schema_version (version, applied_at) VALUES (?, {now})`), version); err != nil {
		return fmt.Errorf("cannot record migration %d: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cannot commit migration %d: %w", version, err)
	}
	return nil
}
