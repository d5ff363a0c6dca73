package main

// inScope are the TableStoreSuite tests of the SDK's api_test.go that use
// only what otsfake serves: table DDL, single-row and batch reads and
// writes, GetRange (PlainBuffer and SimpleRowMatrix), conditions and
// filters, cell versions and time ranges. Every other test of the suite is
// in outOfScope.
var inScope = []string{
	"TestCreateTable",
	"TestReCreateTableAndPutRow",
	"TestListTable",
	"TestUpdateAndDescribeTable",
	"TestPutGetRow",
	"TestCreateTableAndPutRow",
	"TestPutGetRowWithTimestamp",
	"TestPutGetRowWithFilter",
	"TestPutUpdateDeleteRow",
	"TestBatchGetRow",
	"TestBatchGetRowWithFilter",
	"TestBatchWriteRow",
	"TestBatchWriteRowReturnPK",
	"TestBatchWriteRowReturnColumn",
	"TestFuzzyGetRangeMatrix",
	"TestGetRange",
	"TestGetRangeWithPagination",
	"TestGetRangeWithFilter",
	"TestGetRangeWithMinMaxValue",
	"TestPutRowsWorkload",
	"TestFailureCase",
	"TestUserSetTraceIDAlwaysRetry",
}

// expectedFailures are in-scope tests known to fail against the fake, and
// why.
var expectedFailures = map[string]string{
	"TestUpdateAndDescribeTable": "it enables a stream with UpdateTable; the fake serves no streams",
}

// outOfScope are the suite's other tests, and why they are left out.
var outOfScope = map[string]string{
	"TestCreateTableWithOriginColumn":             "streams",
	"TestListStream":                              "streams",
	"TestCreateTableWithStream":                   "streams",
	"TestStream":                                  "streams",
	"TestTableWithKeyAutoIncrement":               "auto-increment primary keys",
	"TestAtomicBatchWriteRowWithSamePartitionKey": "atomic batches",
	"TestAtomicBatchWriteRowWithDiffPartitionKey": "atomic batches",
	"TestSQL":                "SQL",
	"TestSQLWithSearch":      "SQL and search indexes",
	"TestSQLTimeSeries":      "SQL and time series",
	"TestMockHttpClientCase": "never reaches a server (a mock HTTP client)",
	"TestUnit":               "never reaches a server (signing and encoding units)",
}
