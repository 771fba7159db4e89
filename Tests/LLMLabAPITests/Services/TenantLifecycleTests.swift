import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Tenant lifecycle")
struct TenantLifecycleTests {
    @Test("create, list, suspend keeps data but refuses calls, resume, delete")
    func lifecycle() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("acme-prod")
            let project = try await cp.projects.createProject(.with { $0.name = "search" }, metadata: t.ownerAuth)

            let listed = try await cp.tenants.listTenants(.init(), metadata: cp.operatorAuth)
            #expect(listed.tenants.map(\.slug) == ["acme-prod"])
            #expect(listed.tenants[0].status == .active)

            let suspended = try await cp.tenants.suspendTenant(.with { $0.slug = "acme-prod"; $0.reason = "unpaid invoice" }, metadata: cp.operatorAuth)
            #expect(suspended.status == .suspended)
            #expect(suspended.suspendedReason == "unpaid invoice")
            let error = await rpcError { _ = try await cp.projects.listProjects(.init(), metadata: t.ownerAuth) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("suspended") == true)
            #expect(await rpcCode { _ = try await cp.login(t.slug, t.ownerEmail, TestControlPlane.password) } == .failedPrecondition)

            _ = try await cp.tenants.resumeTenant(.with { $0.slug = "acme-prod" }, metadata: cp.operatorAuth)
            let again = try await cp.projects.getProject(.with { $0.id = project.id }, metadata: t.ownerAuth)
            #expect(again.name == "search")

            let badConfirm = await rpcError {
                _ = try await cp.tenants.deleteTenant(.with { $0.slug = "acme-prod"; $0.confirmSlug = "acme" }, metadata: cp.operatorAuth)
            }
            #expect(badConfirm?.code == .invalidArgument)
            #expect(badConfirm?.message.contains("confirm_slug") == true)
            _ = try await cp.tenants.deleteTenant(.with { $0.slug = "acme-prod"; $0.confirmSlug = "acme-prod" }, metadata: cp.operatorAuth)
            let checked1 = try await cp.tenants.listTenants(.init(), metadata: cp.operatorAuth)
            #expect(checked1.tenants.isEmpty)
            #expect(await rpcCode { _ = try await cp.projects.listProjects(.init(), metadata: t.ownerAuth) } == .unauthenticated)
            #expect(await rpcCode {
                _ = try await cp.tenants.deleteTenant(.with { $0.slug = "acme-prod"; $0.confirmSlug = "acme-prod" }, metadata: cp.operatorAuth)
            } == .notFound)

            // Schema and role are gone.
            let leftovers = try await cp.database.database.withControlTransaction { connection in
                let rows = try await connection.query("""
                    SELECT count(*)::int8 FROM pg_namespace WHERE nspname = \("t_" + t.id.replacingOccurrences(of: "-", with: ""))
                    """, logger: TestControlPlane.logger)
                var count: Int64 = -1
                for try await value in rows.decode(Int64.self) { count = value }
                return count
            }
            #expect(leftovers == 0)
        }
    }

    @Test("a duplicate slug is alreadyExists and nothing is half-written")
    func duplicateSlug() async throws {
        try await TestControlPlane.with { cp in
            _ = try await cp.makeTenant("dupe-co")
            let error = await rpcError {
                _ = try await cp.tenants.createTenant(.with {
                    $0.slug = "dupe-co"; $0.ownerEmail = "other@dupe.example"; $0.ownerPassword = TestControlPlane.password
                }, metadata: cp.operatorAuth)
            }
            #expect(error?.code == .alreadyExists)
            let counts = try await cp.database.database.withControlTransaction { connection in
                let rows = try await connection.query("""
                    SELECT (SELECT count(*) FROM control.tenants)::int8, (SELECT count(*) FROM control.users)::int8,
                           (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%')::int8
                    """, logger: TestControlPlane.logger)
                var result: (Int64, Int64, Int64) = (0, 0, 0)
                for try await row in rows.decode((Int64, Int64, Int64).self) { result = row }
                return result
            }
            #expect(counts.0 == 1)
            #expect(counts.1 == 1)
            #expect(counts.2 >= 1)
        }
    }

    @Test("bad tenant requests name the field")
    func badInput() async throws {
        try await TestControlPlane.with { cp in
            let cases: [(Llmlab_V1_CreateTenantRequest, String)] = [
                (.with { $0.slug = ""; $0.ownerEmail = "a@b.co"; $0.ownerPassword = TestControlPlane.password }, "slug"),
                (.with { $0.slug = "Bad Slug"; $0.ownerEmail = "a@b.co"; $0.ownerPassword = TestControlPlane.password }, "slug"),
                (.with { $0.slug = "okay-slug"; $0.ownerEmail = "not-an-email"; $0.ownerPassword = TestControlPlane.password }, "owner_email"),
                (.with { $0.slug = "okay-slug"; $0.ownerEmail = "a@b.co"; $0.ownerPassword = "short" }, "owner_password"),
                (.with { $0.slug = "okay-slug"; $0.displayName = String(repeating: "x", count: 101); $0.ownerEmail = "a@b.co"; $0.ownerPassword = TestControlPlane.password }, "display_name"),
            ]
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.tenants.createTenant(request, metadata: cp.operatorAuth) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.message.contains(field) == true, "\(String(describing: error?.message)) should name \(field)")
            }
            let checked2 = try await cp.tenants.listTenants(.init(), metadata: cp.operatorAuth)
            #expect(checked2.tenants.isEmpty)
            #expect(await rpcCode { _ = try await cp.tenants.suspendTenant(.with { $0.slug = "no-such" }, metadata: cp.operatorAuth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.tenants.listTenants(.with { $0.pageToken = "garbage!" }, metadata: cp.operatorAuth) } == .invalidArgument)
        }
    }

    @Test("tenant lists page with cursors")
    func paging() async throws {
        try await TestControlPlane.with { cp in
            for slug in ["page-a", "page-b", "page-c"] {
                _ = try await cp.tenants.createTenant(.with {
                    $0.slug = slug; $0.ownerEmail = "o@\(slug).example"; $0.ownerPassword = TestControlPlane.password
                }, metadata: cp.operatorAuth)
            }
            let first = try await cp.tenants.listTenants(.with { $0.pageSize = 2 }, metadata: cp.operatorAuth)
            #expect(first.tenants.map(\.slug) == ["page-a", "page-b"])
            #expect(!first.nextPageToken.isEmpty)
            let second = try await cp.tenants.listTenants(.with { $0.pageSize = 2; $0.pageToken = first.nextPageToken }, metadata: cp.operatorAuth)
            #expect(second.tenants.map(\.slug) == ["page-c"])
            #expect(second.nextPageToken.isEmpty)
        }
    }
}
