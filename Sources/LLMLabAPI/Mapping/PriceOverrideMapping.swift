import Foundation
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf

/// Price override records → wire messages.
extension MessageMapping {
    /// `today` decides `in_effect`: an override is in effect from its day on.
    static func priceOverride(_ record: PriceOverrideRecord, today: PriceDate) -> Llmlab_V1_PriceOverride {
        Llmlab_V1_PriceOverride.with {
            $0.id = record.id.uuidString.lowercased()
            $0.provider = EnumMapping.provider(record.provider)
            $0.model = record.model
            $0.effectiveFrom = record.effectiveFrom.description
            $0.prices = tokenPrices(record.prices)
            $0.inEffect = record.effectiveFrom <= today
            $0.setBy = record.setBy
            $0.setAt = timestamp(record.setAt)
        }
    }

    static func tokenPrices(_ sheet: PriceSheet) -> Llmlab_V1_TokenPrices {
        Llmlab_V1_TokenPrices.with {
            $0.input = sheet.input?.description ?? ""
            $0.cachedInput = sheet.cachedInput?.description ?? ""
            $0.cacheWrite5M = sheet.cacheWrite5m?.description ?? ""
            $0.cacheWrite1H = sheet.cacheWrite1h?.description ?? ""
            $0.output = sheet.output?.description ?? ""
            $0.reasoning = sheet.reasoning?.description ?? ""
        }
    }
}
