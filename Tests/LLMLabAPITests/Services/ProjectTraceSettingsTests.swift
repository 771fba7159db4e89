import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf
import Testing

/// The tracing settings on `UpdateProject`: content capture and retention.
@Suite("Project trace settings")
struct ProjectTraceSettingsTests {
    @Test("defaults, updates alone or with other fields, range checks, audited")
    func settings() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("trace-settings")
            let created = try await cp.projects.createProject(.with { $0.name = "agents" }, metadata: t.ownerAuth)
            #expect(!created.captureContent)
            #expect(created.traceRetentionDays == 30)

            let on = try await cp.projects.updateProject(.with {
                $0.id = created.id
                $0.captureContent = true
            }, metadata: t.ownerAuth)
            #expect(on.captureContent && on.traceRetentionDays == 30 && on.name == "agents")

            let both = try await cp.projects.updateProject(.with {
                $0.id = created.id
                $0.traceRetentionDays = 7
                $0.name = "agents v2"
            }, metadata: t.ownerAuth)
            #expect(both.captureContent && both.traceRetentionDays == 7 && both.name == "agents v2")

            let off = try await cp.projects.updateProject(.with { $0.id = created.id; $0.captureContent = false }, metadata: t.ownerAuth)
            #expect(!off.captureContent && off.traceRetentionDays == 7)
            let fetched = try await cp.projects.getProject(.with { $0.id = created.id }, metadata: t.ownerAuth)
            #expect(!fetched.captureContent && fetched.traceRetentionDays == 7)
            let listed = try await cp.projects.listProjects(.init(), metadata: t.ownerAuth)
            #expect(listed.projects.first?.traceRetentionDays == 7)

            for days: Int32 in [0, 3651, -1] {
                let error = await rpcError {
                    _ = try await cp.projects.updateProject(.with { $0.id = created.id; $0.traceRetentionDays = days }, metadata: t.ownerAuth)
                }
                #expect(error?.code == .invalidArgument && error?.message.contains("trace_retention_days") == true, "\(days)")
            }
            _ = try await cp.projects.updateProject(.with { $0.id = created.id; $0.traceRetentionDays = 3650 }, metadata: t.ownerAuth)

            // A viewer may not change them.
            let (_, viewer) = try await cp.signedInUser(t, role: .viewer)
            #expect(await rpcCode {
                _ = try await cp.projects.updateProject(.with { $0.id = created.id; $0.captureContent = true }, metadata: TestControlPlane.auth(viewer))
            } == .permissionDenied)

            let audit = try await cp.audit.listAuditEvents(.init(), metadata: t.ownerAuth)
            #expect(audit.events.contains { $0.target == "project:\(created.id)" && $0.detail.contains("capture_content") })
        }
    }
}
