-- {{< fact key >}}: a fact recorded by a notebook, printed as its text. In
-- HTML it links to the fact's entry in the claims ledger and carries the
-- anchor `use-<key>-<n>` (n-th use on the page) that the ledger links back
-- to; the built-in renderer prints the same link (reprobook/render/shortcodes.py).
-- {{< fact key fmt=words >}} prints the number in words ("two"), from the
-- table the engine computes for both renderers (_reprobook/facts-words.json).
local common = require("common")

local counts = {}

return {
  ["fact"] = function(args, kwargs, meta, raw_args, context)
    local key = pandoc.utils.stringify(args[1])
    local fmt = kwargs["fmt"] and pandoc.utils.stringify(kwargs["fmt"]) or ""
    local text
    if fmt == "" then
      text = common.fact_text(key)
    elseif fmt == "words" then
      text = common.fact_words(key)
    else
      error("reprobook: unknown fmt=" .. fmt .. " for fact '" .. key .. "' in " .. common.page())
    end
    if context ~= "inline" and context ~= "block" then
      return text -- inside an attribute or other text: plain
    end
    if quarto.doc.is_format("html") then
      counts[key] = (counts[key] or 0) + 1
      local href = common.root_prefix() .. "claims.html#claim-" .. key
      local attr = pandoc.Attr("use-" .. key .. "-" .. counts[key], { "fact" }, { { "data-key", key } })
      -- Raw HTML, so the text is printed exactly as the built-in renderer
      -- prints it (Quarto would curl its straight quotes: N'Mai -> N’Mai).
      local escaped = text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
      return pandoc.Link({ pandoc.RawInline("html", escaped) }, href, "Where this number comes from", attr)
    elseif quarto.doc.is_format("typst") then
      return pandoc.RawInline("typst", "#" .. common.typst_string(text))
    end
    return pandoc.Str(text)
  end
}
