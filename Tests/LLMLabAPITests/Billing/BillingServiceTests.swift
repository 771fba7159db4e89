import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import LLMLabAPI
import SwiftProtobuf
import Testing

extension TestControlPlane {
    var billing: Llmlab_V1_BillingService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
}

/// `llmlab.v1.BillingService` over real TLS and PostgreSQL: a connection synced from a fake
/// OpenAI Costs API and a CSV import, reconciled against usage written through the usage
/// repository (so from the hourly rollup); write-only credentials, RBAC, tenant isolation,
/// validation and audit.
@Suite("Billing service")
struct BillingServiceTests {
    static let day = "2026-03-02"
    static let hour = ISO8601DateFormatter().date(from: "2026-03-02T10:00:00Z")!
    static let key = "sk-admin-TESTSECRET-wxyz"

    static let openAICosts: [String: (status: Int, body: String)] = [
        "/v1/organization/costs": (200, """
            {"object":"page","data":[{"object":"bucket","start_time":1772409600,"end_time":1772496000,"results":[
              {"object":"organization.costs.result","amount":{"value":10.0,"currency":"usd"},"line_item":"gpt-4o-2024-08-06, input","project_id":null}
            ]}],"has_more":true,"next_page":"p2"}
            """),
        "/v1/organization/costs?page": (200, """
            {"object":"page","data":[{"object":"bucket","start_time":1772409600,"end_time":1772496000,"results":[
              {"object":"organization.costs.result","amount":{"value":0.6,"currency":"usd"},"line_item":"gpt-4o-2024-08-06, output","project_id":null}
            ]}],"has_more":false,"next_page":null}
            """),
        "/reject/v1/organization/costs": (401, #"{"error":{"message":"Incorrect API key provided: \#(key)"}}"#),
    ]

    static func seedUsage(_ cp: TestControlPlane, tenant: TestControlPlane.Tenant) async throws {
        let project = try await cp.projects.createProject(.with { $0.name = "billing" }, metadata: tenant.ownerAuth)
        let tenantID = try #require(UUID(uuidString: tenant.id))
        let projectID = try #require(UUID(uuidString: project.id))
        let key = UUID()
        func event(_ id: String, provider: String, model: String, cost: String, at: Date) -> UsageEventRecord {
            UsageEventRecord(tenantID: tenantID, requestID: id, occurredAt: at, projectID: projectID, apiKeyID: key, provider: provider,
                             model: model, inputTokens: 100, outputTokens: 10, costUSD: cost, unpricedReason: "", latencyMs: 100,
                             status: 200, streamed: false)
        }
        let events = [
            event("o1", provider: "openai", model: "gpt-4o", cost: "4", at: hour),
            event("o2", provider: "openai", model: "gpt-4o-2024-08-06", cost: "6", at: hour.addingTimeInterval(3 * 3600)),
            event("a1", provider: "anthropic", model: "claude-sonnet-4-5", cost: "2", at: hour),
            // The next day: outside the reconciled range.
            event("o3", provider: "openai", model: "gpt-4o", cost: "100", at: hour.addingTimeInterval(86_400)),
        ]
        _ = try await cp.database.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            try await UsageEventRepository(connection, logger: TestControlPlane.logger).insert(events)
        }
    }

    @Test("connect, sync from a fake Costs API, import CSV, reconcile; idempotent re-sync; delete")
    func endToEnd() async throws {
        let fake = FakeProviderBilling(Self.openAICosts)
        try await fake.serving { base in
            try await TestControlPlane.with { cp in
                let a = try await cp.makeTenant("billing-a")
                try await Self.seedUsage(cp, tenant: a)
                let (_, viewerToken) = try await cp.signedInUser(a, role: .viewer)
                let viewer = TestControlPlane.auth(viewerToken)

                let created = try await cp.billing.createConnection(.with {
                    $0.kind = .openai
                    $0.name = "OpenAI org"
                    $0.credential = Self.key
                    $0.settings = ["base_url": base, "organization": "org-123"]
                }, metadata: a.ownerAuth).connection
                #expect(created.credentialLastFour == "wxyz" && created.schedule == .daily && created.lastSyncStatus == .never)
                #expect(created.settings == ["base_url": base, "organization": "org-123"])
                #expect(!(try created.jsonString()).contains("TESTSECRET"))

                let listed = try await cp.billing.listConnections(.init(), metadata: viewer).connections
                #expect(listed.map(\.id) == [created.id])
                #expect(!(try listed[0].jsonString()).contains("TESTSECRET"))

                let synced = try await cp.billing.syncConnection(.with {
                    $0.id = created.id
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                }, metadata: a.ownerAuth)
                #expect(synced.lines == 2 && synced.totalUsd == "10.6" && synced.fromDate == Self.day)
                // Again: the range is replaced, not added to.
                _ = try await cp.billing.syncConnection(.with {
                    $0.id = created.id
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                }, metadata: a.ownerAuth)
                #expect(fake.requestedPaths.count == 4)

                let csv = "date,provider,model,cost_usd,line_item\n\(Self.day),anthropic,claude-sonnet-4-5-20250929,2.5,\"Sonnet, input\"\n"
                for _ in 0..<2 {
                    let imported = try await cp.billing.importBillingCSV(.with {
                        $0.format = .generic
                        $0.content = Data(csv.utf8)
                    }, metadata: a.ownerAuth)
                    #expect(imported.lines == 1 && imported.totalUsd == "2.5" && imported.fromDate == Self.day)
                }

                let report = try await cp.billing.getReconciliation(.with {
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                }, metadata: viewer)
                #expect(report.thresholdPercent == "5" && report.minimumDifferenceUsd == "0.01")
                #expect(report.rows.map { "\($0.provider)/\($0.day)/\($0.model)" } == [
                    "anthropic/\(Self.day)/claude-sonnet-4-5", "openai/\(Self.day)/gpt-4o",
                ])
                let claude = report.rows[0], gpt = report.rows[1]
                #expect(claude.trackedUsd == "2" && claude.billedUsd == "2.5" && claude.differenceUsd == "0.5")
                #expect(claude.differencePercent == "20.00" && claude.flagged && claude.side == .both)
                #expect(gpt.trackedUsd == "10" && gpt.billedUsd == "10.6" && gpt.differenceUsd == "0.6")
                #expect(gpt.differencePercent == "5.66" && gpt.flagged)
                #expect(report.totals.map(\.provider) == ["anthropic", "openai"])

                let relaxed = try await cp.billing.getReconciliation(.with {
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                    $0.provider = "openai"
                    $0.thresholdPercent = "6"
                }, metadata: viewer)
                #expect(relaxed.rows.count == 1 && !relaxed.rows[0].flagged && relaxed.thresholdPercent == "6")

                let runs = try await cp.billing.listSyncRuns(.init(), metadata: viewer).runs
                #expect(runs.count == 4 && runs.allSatisfy { $0.status == "succeeded" })
                let connectionRuns = try await cp.billing.listSyncRuns(.with { $0.connectionID = created.id }, metadata: viewer).runs
                #expect(connectionRuns.count == 2 && connectionRuns.allSatisfy { $0.trigger == "manual" && $0.totalUsd == "10.6" })
                #expect(runs.filter { $0.trigger == "import" && $0.source == "import:generic" && $0.connectionID.isEmpty }.count == 2)

                let after = try await cp.billing.listConnections(.init(), metadata: viewer).connections[0]
                #expect(after.lastSyncStatus == .succeeded && after.hasLastSyncAt && after.lastSyncError.isEmpty)

                let events = try await cp.audit.listAuditEvents(.with { $0.pageSize = 100 }, metadata: a.ownerAuth).events
                let targets = events.map(\.target)
                #expect(targets.contains("billing_connection:\(created.id)"))
                #expect(events.filter { $0.target == "billing_connection:\(created.id)" }.count >= 3)
                #expect(targets.contains { $0.hasPrefix("billing_import:") })
                #expect(!events.contains { $0.detail.contains("TESTSECRET") })

                try await cp.billing.deleteConnection(.with { $0.id = created.id }, metadata: a.ownerAuth)
                #expect(try await cp.billing.listConnections(.init(), metadata: viewer).connections.isEmpty)
                let afterDelete = try await cp.billing.getReconciliation(.with {
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                    $0.provider = "openai"
                }, metadata: viewer)
                #expect(afterDelete.rows.count == 1 && afterDelete.rows[0].side == .trackedOnly && afterDelete.rows[0].billedUsd == "0")
            }
        }
    }

    @Test("a Google Cloud billing export imports Vertex AI rows and reconciles them as gemini")
    func gcpImport() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("billing-gcp")
            let csv = """
                service.description,sku.description,usage_start_time,cost,currency,credits
                Vertex AI,Gemini 2.5 Flash Input Text,\(Self.day) 10:00:00 UTC,1.25,USD,-0.25
                Compute Engine,N2 Instance Core,\(Self.day) 10:00:00 UTC,9.99,USD,

                """
            let imported = try await cp.billing.importBillingCSV(.with {
                $0.format = .gcpBigquery
                $0.content = Data(csv.utf8)
            }, metadata: a.ownerAuth)
            #expect(imported.lines == 1 && imported.totalUsd == "1")
            let report = try await cp.billing.getReconciliation(.with {
                $0.fromDate = Self.day
                $0.toDate = Self.day
                $0.provider = "gemini"
            }, metadata: a.ownerAuth)
            #expect(report.rows.count == 1)
            #expect(report.rows.first?.model == "gemini-2.5-flash" && report.rows.first?.side == .billedOnly)
            #expect(report.rows.first?.billedUsd == "1" && report.rows.first?.differencePercent == "100.00")
        }
    }

    @Test("a rejected credential: failedPrecondition, recorded on the connection, never echoed")
    func syncFailure() async throws {
        let fake = FakeProviderBilling(Self.openAICosts)
        try await fake.serving { base in
            try await TestControlPlane.with { cp in
                let a = try await cp.makeTenant("billing-fail")
                let created = try await cp.billing.createConnection(.with {
                    $0.kind = .openai
                    $0.name = "rejected"
                    $0.credential = Self.key
                    $0.settings = ["base_url": base + "/reject"]
                    $0.schedule = .hourly
                }, metadata: a.ownerAuth).connection
                #expect(created.schedule == .hourly)
                let error = await rpcError {
                    _ = try await cp.billing.syncConnection(.with { $0.id = created.id }, metadata: a.ownerAuth)
                }
                #expect(error?.code == .failedPrecondition)
                #expect(!(error?.message.contains("TESTSECRET") ?? true) && !(error?.message.contains("ET-wxyz") ?? true))
                let listed = try await cp.billing.listConnections(.init(), metadata: a.ownerAuth).connections[0]
                #expect(listed.lastSyncStatus == .failed && listed.lastSyncError.contains("refused the credential"))
                #expect(!listed.lastSyncError.contains("TESTSECRET"))
                let run = try #require(try await cp.billing.listSyncRuns(.init(), metadata: a.ownerAuth).runs.first)
                #expect(run.status == "failed" && run.error == listed.lastSyncError && run.lines == 0)

                // Rotate the key and fix the settings in place; the next sync succeeds.
                let updated = try await cp.billing.updateConnection(.with {
                    $0.id = created.id
                    $0.credential = "sk-admin-NEWSECRET-9876"
                    $0.replaceSettings = true
                    $0.settings = ["base_url": base]
                    $0.schedule = .daily
                }, metadata: a.ownerAuth).connection
                #expect(updated.credentialLastFour == "9876" && updated.settings == ["base_url": base] && updated.schedule == .daily)
                #expect(!(try updated.jsonString()).contains("NEWSECRET"))
                let synced = try await cp.billing.syncConnection(.with {
                    $0.id = created.id
                    $0.fromDate = Self.day
                    $0.toDate = Self.day
                }, metadata: a.ownerAuth)
                #expect(synced.lines == 2)
                let disabled = try await cp.billing.updateConnection(.with {
                    $0.id = created.id
                    $0.disabled = true
                }, metadata: a.ownerAuth).connection
                #expect(disabled.disabled && disabled.credentialLastFour == "9876" && disabled.lastSyncStatus == .succeeded)
                #expect(await rpcCode {
                    _ = try await cp.billing.updateConnection(.with { $0.id = created.id; $0.settings = ["base_url": base] }, metadata: a.ownerAuth)
                } == .invalidArgument)
                #expect(await rpcCode {
                    _ = try await cp.billing.updateConnection(.with {
                        $0.id = created.id
                        $0.replaceSettings = true
                        $0.settings = ["scope": "x"]
                    }, metadata: a.ownerAuth)
                } == .invalidArgument)
            }
        }
    }

    @Test("RBAC: viewers and members read, only admins write; project keys are refused")
    func rbac() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("billing-rbac")
            let (_, viewerToken) = try await cp.signedInUser(a, role: .viewer)
            let (_, memberToken) = try await cp.signedInUser(a, role: .member)
            let (_, adminToken) = try await cp.signedInUser(a, role: .admin)
            let create = Llmlab_V1_CreateBillingConnectionRequest.with {
                $0.kind = .anthropic
                $0.name = "anthropic"
                $0.credential = "sk-ant-admin01-abcdefgh"
            }
            for token in [viewerToken, memberToken] {
                let auth = TestControlPlane.auth(token)
                #expect(await rpcCode { _ = try await cp.billing.createConnection(create, metadata: auth) } == .permissionDenied)
                #expect(await rpcCode {
                    _ = try await cp.billing.importBillingCSV(.with { $0.format = .generic; $0.content = Data("x".utf8) }, metadata: auth)
                } == .permissionDenied)
                #expect(await rpcCode { _ = try await cp.billing.listConnections(.init(), metadata: auth) } == nil)
                #expect(await rpcCode {
                    _ = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = Self.day }, metadata: auth)
                } == nil)
            }
            let admin = TestControlPlane.auth(adminToken)
            let created = try await cp.billing.createConnection(create, metadata: admin).connection
            let viewer = TestControlPlane.auth(viewerToken)
            #expect(await rpcCode { _ = try await cp.billing.syncConnection(.with { $0.id = created.id }, metadata: viewer) } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.billing.deleteConnection(.with { $0.id = created.id }, metadata: viewer) } == .permissionDenied)
            #expect(await rpcCode {
                _ = try await cp.billing.updateConnection(.with { $0.id = created.id; $0.disabled = true }, metadata: viewer)
            } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.billing.createConnection(create, metadata: admin) } == .alreadyExists)
        }
    }

    @Test("isolation: another tenant's connection ids are not found, and its data is not visible")
    func isolation() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("billing-iso-a")
            let b = try await cp.makeTenant("billing-iso-b")
            try await Self.seedUsage(cp, tenant: a)
            let created = try await cp.billing.createConnection(.with {
                $0.kind = .openai
                $0.name = "theirs"
                $0.credential = Self.key
            }, metadata: a.ownerAuth).connection
            _ = try await cp.billing.importBillingCSV(.with {
                $0.format = .generic
                $0.content = Data("date,provider,model,cost_usd\n\(Self.day),openai,gpt-4o,1\n".utf8)
            }, metadata: a.ownerAuth)
            #expect(await rpcCode { try await cp.billing.deleteConnection(.with { $0.id = created.id }, metadata: b.ownerAuth) } == .notFound)
            #expect(await rpcCode {
                _ = try await cp.billing.updateConnection(.with { $0.id = created.id; $0.disabled = true }, metadata: b.ownerAuth)
            } == .notFound)
            #expect(await rpcCode { _ = try await cp.billing.syncConnection(.with { $0.id = created.id }, metadata: b.ownerAuth) } == .notFound)
            #expect(try await cp.billing.listConnections(.init(), metadata: b.ownerAuth).connections.isEmpty)
            #expect(await rpcCode {
                _ = try await cp.billing.listSyncRuns(.with { $0.connectionID = created.id }, metadata: b.ownerAuth)
            } == .notFound)
            #expect(try await cp.billing.listSyncRuns(.init(), metadata: b.ownerAuth).runs.isEmpty)
            let theirs = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = Self.day }, metadata: b.ownerAuth)
            #expect(theirs.rows.isEmpty && theirs.totals.isEmpty)
            let mine = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = Self.day }, metadata: a.ownerAuth)
            #expect(!mine.rows.isEmpty)
        }
    }

    @Test("a server without --billing-allow-custom-endpoints refuses base_url and token_url (no SSRF by tenant admins)")
    func customEndpointsOffByDefault() async throws {
        try await TestControlPlane.with(configuration: .defaults) { cp in
            let a = try await cp.makeTenant("billing-ssrf")
            for (kind, settings, field) in [
                (Llmlab_V1_BillingConnectionKind.openai, ["base_url": "http://169.254.169.254/latest"], "settings.base_url"),
                (.azure, ["scope": "subscriptions/s", "tenant_id": "t", "client_id": "c", "token_url": "http://127.0.0.1:1/token"],
                 "settings.token_url"),
            ] {
                let error = await rpcError {
                    _ = try await cp.billing.createConnection(.with {
                        $0.kind = kind
                        $0.name = "ssrf-\(field)"
                        $0.credential = BillingServiceTests.key
                        $0.settings = settings
                    }, metadata: a.ownerAuth)
                }
                #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
                #expect(error?.message.hasPrefix(field) == true && error?.message.contains("--billing-allow-custom-endpoints") == true,
                        "\(String(describing: error))")
            }
            // Without custom endpoints a connection is made (and would call the provider itself).
            let plain = try await cp.billing.createConnection(.with {
                $0.kind = .openai
                $0.name = "provider"
                $0.credential = BillingServiceTests.key
            }, metadata: a.ownerAuth)
            #expect(plain.connection.settings["base_url"] == nil)
        }
    }

    @Test("bad input is invalidArgument naming the field")
    func validation() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("billing-input")
            let owner = a.ownerAuth
            func message(_ body: () async throws -> Void) async -> String {
                let error = await rpcError(body)
                return error?.code == .invalidArgument ? error!.message : "not invalidArgument: \(String(describing: error))"
            }
            let valid = Llmlab_V1_CreateBillingConnectionRequest.with {
                $0.kind = .azure
                $0.name = "azure"
                $0.credential = "client-secret-value"
                $0.settings = ["scope": "subscriptions/s", "tenant_id": "t", "client_id": "c"]
            }
            func variant(_ change: (inout Llmlab_V1_CreateBillingConnectionRequest) -> Void) -> Llmlab_V1_CreateBillingConnectionRequest {
                var request = valid
                change(&request)
                return request
            }
            let cases: [(Llmlab_V1_CreateBillingConnectionRequest, String)] = [
                (variant { $0.kind = .unspecified }, "kind"),
                (variant { $0.settings["client_id"] = nil }, "settings.client_id"),
                (variant { $0.settings["admin_key"] = "x" }, "settings"),
                (variant { $0.settings["base_url"] = "ftp://x" }, "settings.base_url"),
                (variant { $0.credential = "" }, "credential"),
                (variant { $0.name = " " }, "name"),
            ]
            for (request, field) in cases {
                let text = await message { _ = try await cp.billing.createConnection(request, metadata: owner) }
                #expect(text.contains(field), "\(field): \(text)")
            }
            #expect(await message { _ = try await cp.billing.syncConnection(.with { $0.id = "nope" }, metadata: owner) }.contains("id"))
            #expect(await message { _ = try await cp.billing.deleteConnection(.with { $0.id = "" }, metadata: owner) }.contains("id"))
            #expect(await message { _ = try await cp.billing.listSyncRuns(.with { $0.connectionID = "x" }, metadata: owner) }.contains("connection_id"))
            #expect(await message { _ = try await cp.billing.listSyncRuns(.with { $0.limit = 501 }, metadata: owner) }.contains("limit"))
            #expect(await message {
                _ = try await cp.billing.getReconciliation(.with { $0.fromDate = "2026-02-30"; $0.toDate = Self.day }, metadata: owner)
            }.contains("from_date"))
            #expect(await message {
                _ = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = "2026-03-01" }, metadata: owner)
            }.contains("to_date"))
            #expect(await message {
                _ = try await cp.billing.getReconciliation(.with { $0.fromDate = "2024-01-01"; $0.toDate = Self.day }, metadata: owner)
            }.contains("to_date"))
            #expect(await message {
                _ = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = Self.day; $0.provider = "aws" }, metadata: owner)
            }.contains("provider"))
            #expect(await message {
                _ = try await cp.billing.getReconciliation(.with { $0.fromDate = Self.day; $0.toDate = Self.day; $0.thresholdPercent = "abc" }, metadata: owner)
            }.contains("threshold_percent"))
            #expect(await message {
                _ = try await cp.billing.importBillingCSV(.with { $0.format = .unspecified; $0.content = Data("x".utf8) }, metadata: owner)
            }.contains("format"))
            #expect(await message {
                _ = try await cp.billing.importBillingCSV(.with { $0.format = .generic }, metadata: owner)
            }.contains("content"))
            let badRow = await message {
                _ = try await cp.billing.importBillingCSV(.with {
                    $0.format = .generic
                    $0.content = Data("date,provider,model,cost_usd\n\(Self.day),openai,gpt-4o,12,5\n".utf8)
                }, metadata: owner)
            }
            #expect(badRow.contains("content") && badRow.contains("line 2"))
            let badCost = await message {
                _ = try await cp.billing.importBillingCSV(.with {
                    $0.format = .generic
                    $0.content = Data("date,provider,model,cost_usd\n\(Self.day),openai,gpt-4o,\"12,5\"\n".utf8)
                }, metadata: owner)
            }
            #expect(badCost.contains("line 2, column cost_usd"))
        }
    }
}
