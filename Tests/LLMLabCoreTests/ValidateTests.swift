import Foundation
import LLMLabCore
import Testing

@Suite("Validate")
struct ValidateTests {
    @Test("good slugs pass", arguments: ["acme", "acme-prod", "a1b", "t" + String(repeating: "x", count: 39)])
    func goodSlugs(_ slug: String) throws {
        #expect(try Validate.slug(slug) == slug)
    }

    @Test("bad slugs name the field", arguments: ["", "ab", "Acme", "1acme", "acme-", "ac--me", "acme_prod", "acme prod", "ä-acme",
                                                   "t" + String(repeating: "x", count: 40), "acme;drop"])
    func badSlugs(_ slug: String) {
        #expect(throws: ValidationError.self) { try Validate.slug(slug) }
        do {
            _ = try Validate.slug(slug, field: "tenant")
        } catch let error as ValidationError {
            #expect(error.field == "tenant")
            #expect(!error.reason.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("emails are trimmed and lowercased")
    func emails() throws {
        #expect(try Validate.email(" Ada@Example.COM ") == "ada@example.com")
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "ada@.com", "a b@example.com", "ada@example.com."] {
            #expect(throws: ValidationError.self, "\(bad)") { try Validate.email(bad) }
        }
        #expect(throws: ValidationError.self) { try Validate.email(String(repeating: "a", count: 250) + "@x.io") }
    }

    @Test("passwords need 12 characters and at most 1024 bytes")
    func passwords() throws {
        #expect(throws: ValidationError.self) { try Validate.password("short") }
        #expect(throws: ValidationError.self) { try Validate.password(String(repeating: "p", count: 1025)) }
        #expect(try Validate.password("correct horse battery") == "correct horse battery")
    }

    @Test("names are trimmed, bounded and free of control characters")
    func names() throws {
        #expect(try Validate.name("  Search  ", field: "name") == "Search")
        #expect(throws: ValidationError.self) { try Validate.name("   ", field: "name") }
        #expect(throws: ValidationError.self) { try Validate.name("a\u{7}b", field: "name") }
        #expect(throws: ValidationError.self) { try Validate.name(String(repeating: "n", count: 101), field: "name") }
    }

    @Test("ids must be UUIDs")
    func ids() throws {
        let id = UUID()
        #expect(try Validate.id(id.uuidString.lowercased(), field: "id") == id)
        #expect(throws: ValidationError.self) { try Validate.id("", field: "id") }
        #expect(throws: ValidationError.self) { try Validate.id("1234", field: "id") }
        #expect(throws: ValidationError.self) { try Validate.id("'; DROP TABLE projects; --", field: "id") }
        #expect(try Validate.optionalID("", field: "project_id") == nil)
    }

    @Test("page sizes: 0 is the default, the maximum is enforced")
    func pageSizes() throws {
        #expect(try Validate.pageSize(0) == 50)
        #expect(try Validate.pageSize(7) == 7)
        #expect(throws: ValidationError.self) { try Validate.pageSize(-1) }
        #expect(throws: ValidationError.self) { try Validate.pageSize(501) }
    }
}
