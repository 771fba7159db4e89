import ArgumentParser
import Foundation
import LLMLabProto
import SwiftProtobuf

/// One `--deployment` of `route set`:
/// `provider=openai,model=gpt-4o,key=KEY_ID[,weight=2][,priority=0][,timeout-ms=30000]`.
/// Malformed values are usage errors (64) that say which part is wrong; value ranges are
/// the server's to check, so its message names the field.
struct DeploymentArgument {
    static let syntax = "provider=P,model=M,key=KEY_ID[,weight=N][,priority=N][,timeout-ms=N]"

    var deployment: Llmlab_V1_RouteDeployment

    static func parse(_ argument: String) throws -> DeploymentArgument {
        var values: [String: String] = [:]
        for part in argument.split(separator: ",", omittingEmptySubsequences: true) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else {
                throw ValidationError("\"\(part)\" is not name=value; write \(syntax)")
            }
            var name = String(pair[0]).trimmingWhitespace().lowercased().replacingOccurrences(of: "_", with: "-")
            if name == "provider-key" || name == "provider-key-id" { name = "key" }
            guard ["provider", "model", "key", "weight", "priority", "timeout-ms"].contains(name) else {
                throw ValidationError("unknown part \"\(pair[0])\"; write \(syntax)")
            }
            guard values[name] == nil else {
                throw ValidationError("\(name) is given twice")
            }
            values[name] = String(pair[1]).trimmingWhitespace()
        }
        func required(_ name: String) throws -> String {
            guard let value = values[name], !value.isEmpty else {
                throw ValidationError("\(name)= is required; write \(syntax)")
            }
            return value
        }
        func number(_ name: String) throws -> Int32? {
            guard let text = values[name] else { return nil }
            guard let value = Int32(text) else {
                throw ValidationError("\(name)=\(text) is not a whole number")
            }
            return value
        }
        let providerText = try required("provider")
        guard let provider = ProviderArgument(argument: providerText) else {
            throw ValidationError("provider \(providerText) is not one of openai, azure_openai, anthropic, gemini")
        }
        let model = try required("model")
        let key = try required("key")
        let weight = try number("weight")
        let priority = try number("priority")
        let timeout = try number("timeout-ms")
        return DeploymentArgument(deployment: .with {
            $0.provider = provider.wire
            $0.model = model
            $0.providerKeyID = key
            $0.weight = weight ?? 0
            $0.priority = priority ?? 0
            if let timeout { $0.timeoutMs = timeout }
        })
    }
}

/// `--strategy` of `route set`: how the proxy picks among deployments of equal priority.
enum StrategyArgument: String, CaseIterable, ExpressibleByArgument {
    case weighted
    case leastLatency = "least-latency"

    init?(argument: String) {
        let normalized = argument.lowercased().replacingOccurrences(of: "_", with: "-")
        guard let value = Self(rawValue: normalized) else { return nil }
        self = value
    }

    var wire: Llmlab_V1_RouteStrategy {
        switch self {
        case .weighted: .weighted
        case .leastLatency: .leastLatency
        }
    }
}
