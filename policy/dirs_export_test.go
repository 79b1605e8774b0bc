package policy

// ParseLiteralCommand is parseLiteralCommand.
var ParseLiteralCommand = parseLiteralCommand
