import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabServer
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Provider keys")
struct ProviderKeyTests {
    static func project(_ cp: TestControlPlane, _ t: TestControlPlane.Tenant, providers: [Llmlab_V1_Provider] = []) async throws -> Llmlab_V1_Project {
        try await cp.projects.createProject(.with { $0.name = "keys"; $0.allowedProviders = providers }, metadata: t.ownerAuth)
    }

    /// What the database holds for a provider key: its sealed secret and the tenant's
    /// wrapped data key, read behind the API's back.
    static func storedSecret(_ cp: TestControlPlane, tenant: TestControlPlane.Tenant, keyID: String) async throws -> (Data, Data) {
        let tenantID = try #require(UUID(uuidString: tenant.id))
        let keyUUID = try #require(UUID(uuidString: keyID))
        let scope = TenantScope(tenantID: tenantID)
        return try await cp.database.database.withControlTransaction { connection in
            let tenant = try await TenantRepository(connection, logger: TestControlPlane.logger).find(id: tenantID)
            let rows = try await connection.query(
                "SELECT sealed_secret FROM \(unescaped: scope.schemaName).provider_keys WHERE id = \(keyUUID)",
                logger: TestControlPlane.logger)
            var sealed = Data()
            for try await value in rows.decode(Data.self) { sealed = value }
            return (sealed, tenant?.wrappedDataKey ?? Data())
        }
    }

    @Test("secrets are sealed, masked in lists, rotated in place, and never in the audit log")
    func sealAndMask() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("pkeys-co")
            let p = try await Self.project(cp, t)
            let secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
            let key = try await cp.providerKeys.putProviderKey(.with {
                $0.projectID = p.id; $0.provider = .openai; $0.secret = secret
            }, metadata: t.ownerAuth)
            #expect(key.lastFour == "WXYZ")
            #expect(key.name == "default")
            #expect(!key.hasRotatedAt)

            let rotated = try await cp.providerKeys.putProviderKey(.with {
                $0.projectID = p.id; $0.provider = .openai; $0.secret = "sk-proj-rotated-secret-value-9876"
            }, metadata: t.ownerAuth)
            #expect(rotated.id == key.id)
            #expect(rotated.lastFour == "9876")
            #expect(rotated.hasRotatedAt)

            let azure = try await cp.providerKeys.putProviderKey(.with {
                $0.projectID = p.id; $0.provider = .azureOpenai; $0.secret = "0123456789abcdef0123456789abcdef"
                $0.azure = .with { $0.endpoint = "https://acme.openai.azure.com/"; $0.deployment = "gpt-4o-prod"; $0.apiVersion = "2024-10-21" }
            }, metadata: t.ownerAuth)
            #expect(azure.azure.endpoint == "https://acme.openai.azure.com")

            let listed = try await cp.providerKeys.listProviderKeys(.with { $0.projectID = p.id }, metadata: t.ownerAuth)
            #expect(listed.providerKeys.count == 2)
            let listJSON = try listed.jsonString()
            let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
            let auditJSON = try audit.jsonString()
            for text in [listJSON, auditJSON] {
                #expect(!text.contains(secret))
                #expect(!text.contains("rotated-secret"))
                #expect(!text.contains("0123456789abcdef0123456789abcdef"))
            }

            // In the database there is only ciphertext, and it opens with the tenant's data key
            // under associated data bound to tenant and key id.
            let (sealed, wrapped) = try await Self.storedSecret(cp, tenant: t, keyID: key.id)
            #expect(!String(decoding: sealed, as: UTF8.self).contains("rotated"))
            let dataKey = try KeyVault(masterKey: cp.masterKey).unwrap([UInt8](wrapped), tenantID: t.id)
            #expect(try dataKey.open([UInt8](sealed), associatedData: "tenant:\(t.id)/key:\(key.id)") == "sk-proj-rotated-secret-value-9876")
            #expect(throws: (any Error).self) { try dataKey.open([UInt8](sealed), associatedData: "tenant:\(t.id)/key:\(azure.id)") }

            _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = key.id }, metadata: t.ownerAuth)
            let checked1 = try await cp.providerKeys.listProviderKeys(.init(), metadata: t.ownerAuth)
            #expect(checked1.providerKeys.map(\.id) == [azure.id])
            #expect(await rpcCode { _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = key.id }, metadata: t.ownerAuth) } == .notFound)
        }
    }

    @Test("bad provider key input names the field and never echoes the secret")
    func badInput() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("pkeybad-co")
            let p = try await Self.project(cp, t, providers: [.openai, .azureOpenai])
            let cases: [(Llmlab_V1_PutProviderKeyRequest, String)] = [
                (.with { $0.provider = .openai; $0.secret = "sk-1234567890" }, "project_id"),
                (.with { $0.projectID = p.id; $0.secret = "sk-1234567890" }, "provider"),
                (.with { $0.projectID = p.id; $0.provider = .openai }, "secret"),
                (.with { $0.projectID = p.id; $0.provider = .openai; $0.secret = "sk-has space-1234" }, "secret"),
                (.with { $0.projectID = p.id; $0.provider = .openai; $0.secret = "sk-1234567890"; $0.name = "bad name!" }, "name"),
                (.with { $0.projectID = p.id; $0.provider = .azureOpenai; $0.secret = "0123456789abcdef" }, "azure"),
                (.with { $0.projectID = p.id; $0.provider = .azureOpenai; $0.secret = "0123456789abcdef"
                         $0.azure = .with { $0.endpoint = "ftp://x"; $0.deployment = "d"; $0.apiVersion = "2024-10-21" } }, "azure.endpoint"),
                (.with { $0.projectID = p.id; $0.provider = .azureOpenai; $0.secret = "0123456789abcdef"
                         $0.azure = .with { $0.endpoint = "https://x.openai.azure.com"; $0.deployment = "d/../x"; $0.apiVersion = "2024-10-21" } }, "azure.deployment"),
                (.with { $0.projectID = p.id; $0.provider = .azureOpenai; $0.secret = "0123456789abcdef"
                         $0.azure = .with { $0.endpoint = "https://x.openai.azure.com"; $0.deployment = "d"; $0.apiVersion = "yesterday" } }, "azure.api_version"),
            ]
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.providerKeys.putProviderKey(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
                #expect(error?.message.contains(field) == true, "\(String(describing: error?.message))")
                #expect(error?.message.contains("sk-has space") == false)
            }
            let notAllowed = await rpcError {
                _ = try await cp.providerKeys.putProviderKey(.with { $0.projectID = p.id; $0.provider = .gemini; $0.secret = "AIza-1234567890" }, metadata: t.ownerAuth)
            }
            #expect(notAllowed?.code == .failedPrecondition)
            let checked2 = try await cp.providerKeys.listProviderKeys(.init(), metadata: t.ownerAuth)
            #expect(checked2.providerKeys.isEmpty)
        }
    }

    @Test("master-key rotation re-wraps data keys and keeps every provider key readable")
    func masterKeyRotation() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rotate-co")
            let p = try await Self.project(cp, t)
            let key = try await cp.providerKeys.putProviderKey(.with {
                $0.projectID = p.id; $0.provider = .anthropic; $0.secret = "sk-ant-api03-rotation-test-secret"
            }, metadata: t.ownerAuth)
            let newKey = MasterKey.generate()
            let count = try await MasterKeyRotation.rewrapAll(database: cp.database.database, from: cp.masterKey, to: newKey, logger: TestControlPlane.logger)
            #expect(count == 1)

            let (sealed, wrapped) = try await Self.storedSecret(cp, tenant: t, keyID: key.id)
            #expect(throws: (any Error).self) { try KeyVault(masterKey: cp.masterKey).unwrap([UInt8](wrapped), tenantID: t.id) }
            let dataKey = try KeyVault(masterKey: newKey).unwrap([UInt8](wrapped), tenantID: t.id)
            #expect(try dataKey.open([UInt8](sealed), associatedData: "tenant:\(t.id)/key:\(key.id)") == "sk-ant-api03-rotation-test-secret")
        }
    }
}
