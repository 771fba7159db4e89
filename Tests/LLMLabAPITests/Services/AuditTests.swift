import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Audit log")
struct AuditTests {
    @Test("mutations and denials are audited with actor, action, target, request id and outcome")
    func rows() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("audit-co")
            let p = try await cp.projects.createProject(.with { $0.name = "audited" }, metadata: t.ownerAuth)
            let (viewerID, viewerToken) = try await cp.signedInUser(t, role: .viewer)
            #expect(await rpcCode { _ = try await cp.projects.archiveProject(.with { $0.id = p.id }, metadata: TestControlPlane.auth(viewerToken)) } == .permissionDenied)

            let events = try await cp.audit.listAuditEvents(.with { $0.pageSize = 100 }, metadata: t.ownerAuth).events
            let create = try #require(events.first { $0.action == "llmlab.v1.ProjectService/CreateProject" })
            #expect(create.actor == "user:\(t.ownerID)")
            #expect(create.target == "project:\(p.id)")
            #expect(create.outcome == "success")
            #expect(!create.requestID.isEmpty)
            let denied = try #require(events.first { $0.action == "llmlab.v1.ProjectService/ArchiveProject" })
            #expect(denied.actor == "user:\(viewerID)")
            #expect(denied.outcome == "denied")
            #expect(events.map(\.sequence) == events.map(\.sequence).sorted(by: >))

            let filtered = try await cp.audit.listAuditEvents(.with { $0.actor = "user:\(viewerID)" }, metadata: t.ownerAuth).events
            #expect(!filtered.isEmpty)
            #expect(filtered.allSatisfy { $0.actor == "user:\(viewerID)" })
            let byAction = try await cp.audit.listAuditEvents(.with { $0.action = "llmlab.v1.ProjectService/CreateProject" }, metadata: t.ownerAuth).events
            #expect(byAction.map(\.target) == ["project:\(p.id)"])
            let future = try await cp.audit.listAuditEvents(.with { $0.since = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3600)) }, metadata: t.ownerAuth).events
            #expect(future.isEmpty)

            // The operator's actions are in the control log, not the tenant's.
            let control = try await cp.audit.listAuditEvents(.init(), metadata: cp.operatorAuth).events
            #expect(control.contains { $0.action == "llmlab.v1.TenantService/CreateTenant" && $0.target == "tenant:audit-co" })
            #expect(!events.contains { $0.action == "llmlab.v1.TenantService/CreateTenant" && $0.target == "tenant:audit-co" })
        }
    }

    @Test("the chain verifies, and an edited row is found")
    func tamperDetection() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("chain-co")
            for index in 0..<5 {
                _ = try await cp.projects.createProject(.with { $0.name = "p\(index)" }, metadata: t.ownerAuth)
            }
            let ok = try await cp.audit.verifyAuditChain(.init(), metadata: t.ownerAuth)
            #expect(ok.ok)
            #expect(ok.rowsChecked >= 6)
            let controlOK = try await cp.audit.verifyAuditChain(.init(), metadata: cp.operatorAuth)
            #expect(controlOK.ok)

            let tenantID = try #require(UUID(uuidString: t.id))
            let scope = TenantScope(tenantID: tenantID)
            // The tenant role may not change audit rows at all.
            var updateRefused = false
            do {
                try await cp.database.database.withTenantTransaction(scope) { connection in
                    try await connection.query("UPDATE audit_events SET actor = 'user:nobody' WHERE seq = 3", logger: TestControlPlane.logger)
                }
            } catch {
                updateRefused = isPermissionDenied(error)
            }
            #expect(updateRefused)
            // Even the owning login role needs to disable the trigger first; do so to simulate an attacker with DBA rights.
            try await cp.database.database.withControlTransaction { connection in
                try await connection.query("ALTER TABLE \(unescaped: scope.schemaName).audit_events DISABLE TRIGGER audit_events_append_only", logger: TestControlPlane.logger)
                try await connection.query("UPDATE \(unescaped: scope.schemaName).audit_events SET target = 'project:forged' WHERE seq = 3", logger: TestControlPlane.logger)
                try await connection.query("ALTER TABLE \(unescaped: scope.schemaName).audit_events ENABLE TRIGGER audit_events_append_only", logger: TestControlPlane.logger)
            }
            let broken = try await cp.audit.verifyAuditChain(.init(), metadata: t.ownerAuth)
            #expect(!broken.ok)
            #expect(broken.firstBrokenSequence == 3)
            #expect(broken.reason.contains("hash"))
        }
    }
}
