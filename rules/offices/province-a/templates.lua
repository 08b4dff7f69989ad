-- Province A office (L5): document templates.
return {
    quote = function(ctx)
        return string.format("Quotation for %s: %s", ctx.customer or "?", ctx.title or "?")
    end,
}
