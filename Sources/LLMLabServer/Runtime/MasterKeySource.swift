import LLMLabSecurity

/// Where the master key comes from: `LLMLAB_MASTER_KEY` (base64, for secret managers)
/// or a 0600 file created on first run.
enum MasterKeySource {
    static func load(configuration: ServerConfiguration, environment: [String: String]) throws -> MasterKey {
        if let encoded = environment["LLMLAB_MASTER_KEY"], !encoded.isEmpty {
            return try MasterKey(base64: encoded)
        }
        return try MasterKey.loadOrCreate(file: configuration.resolvedMasterKeyFile)
    }
}
