@testable import LLMLabStore
import Testing

@Suite("SQL script splitting")
struct SQLScriptTests {
    @Test("plain statements, comments and blank statements")
    func plain() {
        let statements = SQLScript.statements(in: """
            -- leading comment; with a semicolon
            CREATE TABLE a (id int);
            /* block; comment /* nested; */ still comment; */
            CREATE TABLE b (id int);;
            -- trailing comment only
            """)
        #expect(statements.count == 2)
        #expect(statements[0].hasSuffix("CREATE TABLE a (id int)"))
        #expect(statements[1].hasSuffix("CREATE TABLE b (id int)"))
    }

    @Test("semicolons inside strings, identifiers and dollar quotes stay put")
    func quoted() {
        let statements = SQLScript.statements(in: """
            INSERT INTO t VALUES ('a;b', 'it''s; fine', E'esc\\'; still', "we;ird");
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'no; way';
            END
            $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
            SELECT $1::int; SELECT a$b FROM x
            """)
        #expect(statements.count == 5)
        #expect(statements[0].contains("\"we;ird\")"))
        #expect(statements[1].hasPrefix("CREATE FUNCTION f()"))
        #expect(statements[1].hasSuffix("$$"))
        #expect(statements[2].hasSuffix("$body$"))
        #expect(statements[3] == "SELECT $1::int")
        #expect(statements[4] == "SELECT a$b FROM x")
    }

    @Test("BEGIN ATOMIC bodies are one statement")
    func beginAtomic() {
        let statements = SQLScript.statements(in: """
            CREATE FUNCTION h(x int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
                SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;
                SELECT 2;
            END;
            CREATE TABLE after (id int);
            """)
        #expect(statements.count == 2)
        #expect(statements[0].hasSuffix("END"))
        #expect(statements[1] == "CREATE TABLE after (id int)")
    }

    @Test("every shipped migration splits into statements")
    func shippedMigrations() {
        for migration in ControlMigrations.all + TenantSchemaProvisioner.migrations {
            let statements = SQLScript.statements(in: migration.sql)
            #expect(!statements.isEmpty)
            #expect(statements.allSatisfy { !$0.hasSuffix(";") })
        }
        // The tenant schema's trigger function is one statement including its body.
        let tenant = SQLScript.statements(in: TenantSchemaProvisioner.migrations[0].sql)
        #expect(tenant.contains { $0.hasPrefix("CREATE FUNCTION reject_audit_change()") && $0.contains("append-only") && $0.hasSuffix("$$") })
    }
}
