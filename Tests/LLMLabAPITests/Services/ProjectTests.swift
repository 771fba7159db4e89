import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Projects")
struct ProjectTests {
    @Test("create, get, update, archive with exact budgets")
    func crud() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("projects-co")
            let created = try await cp.projects.createProject(.with {
                $0.name = "Support bot"
                $0.monthlyBudgetUsd = "1500.1"
                $0.allowedProviders = [.openai, .anthropic, .openai]
            }, metadata: t.ownerAuth)
            #expect(created.monthlyBudgetUsd == "1500.10")
            #expect(created.allowedProviders == [.openai, .anthropic])

            let precise = try await cp.projects.updateProject(.with {
                $0.id = created.id
                $0.monthlyBudgetUsd = "0.000001"
            }, metadata: t.ownerAuth)
            #expect(precise.monthlyBudgetUsd == "0.000001")
            #expect(precise.name == "Support bot")

            let cleared = try await cp.projects.updateProject(.with {
                $0.id = created.id
                $0.name = "Support"
                $0.monthlyBudgetUsd = ""
                $0.replaceAllowedProviders = true
            }, metadata: t.ownerAuth)
            #expect(cleared.monthlyBudgetUsd == "")
            #expect(cleared.allowedProviders.isEmpty)
            #expect(cleared.name == "Support")

            #expect(await rpcCode { _ = try await cp.projects.createProject(.with { $0.name = "support" }, metadata: t.ownerAuth) } == .alreadyExists)

            let archived = try await cp.projects.archiveProject(.with { $0.id = created.id }, metadata: t.ownerAuth)
            #expect(archived.hasArchivedAt)
            let checked1 = try await cp.projects.listProjects(.init(), metadata: t.ownerAuth)
            #expect(checked1.projects.isEmpty)
            let checked2 = try await cp.projects.listProjects(.with { $0.includeArchived = true }, metadata: t.ownerAuth)
            #expect(checked2.projects.count == 1)
            #expect(await rpcCode { _ = try await cp.projects.updateProject(.with { $0.id = created.id; $0.name = "x" }, metadata: t.ownerAuth) } == .failedPrecondition)
            // The name is free again once archived.
            _ = try await cp.projects.createProject(.with { $0.name = "Support" }, metadata: t.ownerAuth)
        }
    }

    @Test("bad project input names the field and writes nothing")
    func badInput() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("badproj-co")
            let cases: [(Llmlab_V1_CreateProjectRequest, String)] = [
                (.with { $0.name = "" }, "name"),
                (.with { $0.name = String(repeating: "n", count: 101) }, "name"),
                (.with { $0.name = "x"; $0.monthlyBudgetUsd = "-5" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.monthlyBudgetUsd = "1e6" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.monthlyBudgetUsd = "1.0000001" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.allowedProviders = [.unspecified] }, "allowed_providers[0]"),
            ]
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.projects.createProject(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.message.contains(field) == true, "\(String(describing: error?.message))")
            }
            let checked3 = try await cp.projects.listProjects(.with { $0.includeArchived = true }, metadata: t.ownerAuth)
            #expect(checked3.projects.isEmpty)
            #expect(await rpcCode { _ = try await cp.projects.getProject(.with { $0.id = UUID().uuidString }, metadata: t.ownerAuth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.projects.getProject(.with { $0.id = "../../etc" }, metadata: t.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await cp.projects.updateProject(.with { $0.id = UUID().uuidString }, metadata: t.ownerAuth) } == .invalidArgument)
        }
    }

    @Test("project lists page in creation order")
    func paging() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("paging-co")
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try await cp.projects.createProject(.with { $0.name = "p\(index)" }, metadata: t.ownerAuth).id)
            }
            var seen: [String] = []
            var token = ""
            repeat {
                let page = try await cp.projects.listProjects(.with { $0.pageSize = 2; $0.pageToken = token }, metadata: t.ownerAuth)
                #expect(page.projects.count <= 2)
                seen += page.projects.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(seen == ids)
        }
    }
}
