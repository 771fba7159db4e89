import LLMLabBilling
import Testing

@Suite("Billing CSV imports")
struct CSVImportTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("generic CSV: header in any order, quoted fields, CRLF, canonical models, merged keys")
    func generic() throws {
        let csv = "\u{FEFF}provider,date,model,cost_usd,line_item\r\n"
            + "openai,2026-03-01,gpt-4o-2024-08-06,12.50,\"gpt-4o, input\"\r\n"
            + "openai,2026-03-01,gpt-4o,0.25,\"gpt-4o, input\"\r\n"
            + "anthropic,2026-03-02,,-1.5,\"credit \"\"promo\"\"\nsecond line\"\r\n"
            + "azure,2026-03-02,my-deployment,3,\r\n"
        let lines = try GenericBillingCSV.parse(Self.bytes(csv))
        #expect(lines.count == 3)
        #expect(lines[0] == BilledLine(provider: "openai", day: BillingDay.parse("2026-03-01")!, model: "gpt-4o",
                                       lineItem: "gpt-4o, input", amountUSD: "12.75"))
        #expect(lines[1].provider == "anthropic" && lines[1].model == "" && lines[1].amountUSD == "-1.5")
        #expect(lines[1].lineItem == "credit \"promo\"\nsecond line")
        #expect(lines[2].provider == "azure_openai" && lines[2].model == "my-deployment" && lines[2].lineItem == "(imported)")
    }

    @Test("generic CSV errors name the line and the column")
    func genericErrors() {
        func message(_ csv: String) -> String {
            do {
                _ = try GenericBillingCSV.parse(Self.bytes(csv))
                return "no error"
            } catch {
                return error.message
            }
        }
        let header = "date,provider,model,cost_usd\n"
        #expect(message(header + "2026-03-01,openai,gpt-4o,1\n2026-03-01,openai,gpt-4o,1.2.3\n").contains("line 3, column cost_usd"))
        #expect(message(header + "03/01/2026,openai,gpt-4o,1\n").contains("line 2, column date"))
        #expect(message(header + "2026-03-01,aws,gpt-4o,1\n").contains("line 2, column provider"))
        #expect(message(header + "2026-03-01,openai,gpt-4o,1e3\n").contains("column cost_usd"))
        #expect(message(header + "2026-03-01,openai,gpt-4o\n").contains("line 2: 3 fields"))
        #expect(message("date,provider,cost_usd\n2026-03-01,openai,1\n").contains("no model column"))
        #expect(message("").contains("header row is required"))
        #expect(message(header + "2026-03-01,openai,\"gpt-4o,1\n").contains("never closed"))
        #expect(message(header + "2026-03-01,openai,gp\"t,1\n").contains("line 2, column 3"))
    }

    @Test("GCP BigQuery export: Vertex AI and Gemini API rows, credits subtracted, days in UTC")
    func gcp() throws {
        let csv = """
            billing_account_id,service.description,sku.description,usage_start_time,usage_end_time,cost,currency,credits
            0A-1,Vertex AI,Gemini 2.5 Flash Input Text,2026-03-01 10:00:00 UTC,2026-03-01 11:00:00 UTC,1.25,USD,"[{""name"":""Free tier"",""amount"":-0.25}]"
            0A-1,Vertex AI,Gemini 2.5 Flash Input Text,2026-03-01 11:00:00 UTC,2026-03-01 12:00:00 UTC,0.75,USD,[]
            0A-1,Compute Engine,N2 Instance Core,2026-03-01 10:00:00 UTC,2026-03-01 11:00:00 UTC,9.99,USD,
            0A-1,Gemini API,Generate content output token count Gemini 2.5 Pro,2026-03-02 00:00:00 UTC,2026-03-02 01:00:00 UTC,0.000001,USD,
            0A-1,Vertex AI,Imagen generation,2026-03-02 00:00:00 UTC,2026-03-02 01:00:00 UTC,2,USD,-0.5

            """
        let lines = try GCPBillingCSV.parse(Self.bytes(csv))
        #expect(lines.count == 3)
        #expect(lines[0] == BilledLine(provider: "gemini", day: BillingDay.parse("2026-03-01")!, model: "gemini-2.5-flash",
                                       lineItem: "Gemini 2.5 Flash Input Text", amountUSD: "1.75"))
        #expect(lines[1].model == "gemini-2.5-pro" && lines[1].amountUSD == "0.000001")
        #expect(lines[2].model == "" && lines[2].amountUSD == "1.5")
    }

    @Test("GCP export errors name the line and column")
    func gcpErrors() {
        func message(_ csv: String) -> String {
            do {
                _ = try GCPBillingCSV.parse(Self.bytes(csv))
                return "no error"
            } catch {
                return error.message
            }
        }
        let header = "service.description,sku.description,usage_start_time,cost,currency\n"
        #expect(message(header + "Vertex AI,x,2026-03-01 00:00:00 UTC,1,EUR\n").contains("line 2, column currency"))
        #expect(message(header + "Vertex AI,x,yesterday,1,USD\n").contains("line 2, column usage_start_time"))
        #expect(message(header + "Vertex AI,x,2026-03-01 00:00:00 UTC,one,USD\n").contains("line 2, column cost"))
        #expect(message("sku.description,usage_start_time,cost\n").contains("service.description"))
    }
}
