/**
 * protobufjs object form for recorded histories. The SDK's historyToJSON would be the natural
 * choice, but with npm's hoisting it loads a second protobufjs copy and fails its instanceof
 * check ("type must be a Type"); History.toObject/fromObject use the proto package's own copy.
 */
export const historyJsonOptions = { longs: String, enums: String, bytes: String, defaults: false } as const;
