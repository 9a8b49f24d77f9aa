package config_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/config"
)

// TestDSNPassword: a PostgreSQL DSN in the file may not hold a password in
// any of the forms libpq and pgx read one from, and the error never repeats
// it. DSNs without one are accepted.
func TestDSNPassword(t *testing.T) {
	t.Parallel()
	refused := []string{
		"postgres://u:hunter2@h/db",
		"postgres://:hunter2@h/db",
		"postgresql://u:hunter2@h1:5432,h2:5433/db",
		"postgres://u:hunter2@[::1]:5432/db",
		"postgres://u@h/db?password=hunter2",
		"postgres://u@h/db?sslmode=require&PASSWORD=hunter2",
		"postgres://u@h/db?sslpassword=hunter2",
		"postgres://u@h/db?pass%77ord=hunter2",
		"POSTGRES://u:hunter2@h/db",
		"host=h user=u password=hunter2 dbname=d",
		"host=h user=u password = 'hunter2 hunter2' dbname=d",
		`host=h password='hunter2\'s'`,
		"host=h user=u sslpassword=hunter2",
		"host=h\tPassword=hunter2",
		"dbname=postgres://u:hunter2@h/db",
		"dbname='host=h password=hunter2'",
	}
	accepted := []string{
		"postgres://u@h/db?sslmode=disable",
		"postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
		"postgres://h/db?application_name=password_rotation",
		"host=h user=u dbname=d passfile=/etc/foyer/pgpass",
		"host=/var/run/postgresql dbname=foyer application_name='password check'",
		"postgres://u@h/db?user=password",
	}
	for _, dsn := range refused {
		_, err := config.Parse("foyer.yaml", []byte(minimal+"ledger:\n  driver: postgres\n  dsn: \""+yamlEscape(dsn)+"\"\n"))
		if err == nil {
			t.Errorf("%s: accepted", dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "foyer.yaml:11:8: ledger.dsn") || !strings.Contains(msg, "dsn_env") {
			t.Errorf("%s: error does not point at ledger.dsn and say dsn_env:\n%s", dsn, msg)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("%s: error repeats the password:\n%s", dsn, msg)
		}
	}
	for _, dsn := range accepted {
		if _, err := config.Parse("foyer.yaml", []byte(minimal+"ledger:\n  driver: postgres\n  dsn: \""+yamlEscape(dsn)+"\"\n")); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
	}
}

func yamlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`).Replace(s)
}
