package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

var mysqlDialect = dialect{
	name:         "MySQL",
	now:          `TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))`,
	keyType:      "VARBINARY(255)", // binary: the default collation ignores case
	blobType:     "LONGBLOB",
	tableOptions: " ENGINE=InnoDB",
	insertIgnore: "INSERT IGNORE",
	// VALUES() rather than MySQL 8's row alias, which MariaDB lacks.
	upsertConfig: "ON DUPLICATE KEY UPDATE v = VALUES(v), fence = VALUES(fence), updated_at = VALUES(updated_at)",
	lockSchema:   mysqlLockSchema,
}

// errUnknownDatabase is MySQL's ER_BAD_DB_ERROR.
const errUnknownDatabase = 1049

// OpenMySQL opens the MySQL/MariaDB database named by a go-sql-driver DSN
// ("user:pass@tcp(host:3306)/roster"), creating the database when it does
// not exist and the user may, and creating or migrating the schema.
func OpenMySQL(dsn string) (Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("cannot parse MySQL DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("cannot open MySQL meta store at %s: %w: the DSN names no database", cfg.Addr, ErrInvalid)
	}
	// Matched rather than changed rows, so the store's conditional UPDATEs
	// count a row rewritten with identical values as a success.
	cfg.ClientFoundRows = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	where := cfg.Addr + "/" + cfg.DBName // never the DSN: it may hold a password
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	db, err := openMySQLDB(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot open MySQL meta store at %s: %w", where, err)
	}
	err = db.PingContext(ctx)
	if me := (*mysql.MySQLError)(nil); errors.As(err, &me) && me.Number == errUnknownDatabase {
		err = createDatabase(ctx, cfg)
		if err == nil {
			err = db.PingContext(ctx)
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to MySQL meta store at %s: %w", where, err)
	}
	s, err := newSQLStore(db, &mysqlDialect)
	if err != nil {
		return nil, fmt.Errorf("cannot open MySQL meta store at %s: %w", where, err)
	}
	return s, nil
}

func openMySQLDB(cfg *mysql.Config) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(8)
	// Below the usual server and proxy idle timeouts.
	db.SetConnMaxLifetime(3 * time.Minute)
	return db, nil
}

func createDatabase(ctx context.Context, cfg *mysql.Config) error {
	server := cfg.Clone()
	server.DBName = ""
	db, err := openMySQLDB(server)
	if err != nil {
		return err
	}
	defer db.Close()
	q := "CREATE DATABASE IF NOT EXISTS `" + strings.ReplaceAll(cfg.DBName, "`", "``") + "`"
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("cannot create database %q: %w", cfg.DBName, err)
	}
	return nil
}

// schemaLock names the per-database advisory lock held while migrating; a
// hash keeps it under MySQL's 64-character limit for any database name.
const schemaLock = `CONCAT('roster_schema_', SHA1(DATABASE()))`

// mysqlLockSchema serialises migrations of one database across meta nodes:
// MySQL commits implicitly around DDL, so a transaction cannot.
func mysqlLockSchema(ctx context.Context, c *sql.Conn) (func(), error) {
	var got sql.NullInt64
	wait := int(openTimeout / time.Second)
	if err := c.QueryRowContext(ctx, "SELECT GET_LOCK("+schemaLock+", ?)", wait).Scan(&got); err != nil {
		return nil, fmt.Errorf("cannot take schema lock: %w", err)
	}
	if got.Int64 != 1 {
		return nil, fmt.Errorf("cannot take schema lock: not granted within %ds", wait)
	}
	return func() {
		// A lock left behind by a failed release goes when the connection
		// closes (ConnMaxLifetime); later openers only wait that long.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.ExecContext(ctx, "DO RELEASE_LOCK("+schemaLock+")")
	}, nil
}
