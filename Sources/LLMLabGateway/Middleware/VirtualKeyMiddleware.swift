import HTTPTypes
import Foundation
import Hummingbird
import LLMLabCore
import Logging

/// Authenticates `/v1/*` calls with a virtual key (``VirtualKeyAuthenticator``) that has
/// `scope`, and puts it in the context; requests without a usable key never reach a handler.
struct VirtualKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let authenticator: VirtualKeyAuthenticator
    var scope: String = ApiKeyScope.proxy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let credential = VirtualKeyAuthenticator.credential(
            authorization: request.headers[.authorization], apiKey: request.headers[GatewayHeaders.apiKey])
        let key = try await authenticator.authenticate(credential, scope: scope)
        var context = context
        context.virtualKey = key
        context.logger[metadataKey: "tenant"] = .string(key.tenantSlug)
        context.logger[metadataKey: "project"] = .string(key.projectID.uuidString.lowercased())
        context.logger[metadataKey: "api_key"] = .string(key.keyID.uuidString.lowercased())
        return try await next(request, context)
    }
}
