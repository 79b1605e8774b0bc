package gateway

// ParseLiteralCommand is parseLiteralCommand.
var ParseLiteralCommand = parseLiteralCommand
