-- The engine's filter for Quarto (entry point pre-ast). It does what plain
-- Quarto cannot do with the engine's generated data, and nothing else:
--   1. `{{< var key >}}` / `{{< fact key >}}` inside attribute values
--      (fig-alt="...") become the fact's text (Quarto would copy the raw
--      shortcode onto the figure's <div alt=...>);
--   2. in print formats, links to the engine's web pages (relative links to
--      .html files: claims ledger, data page) become absolute links to the
--      published edition when a site URL is configured, else plain text
--      (a PDF file cannot follow a relative link);
--   3. in HTML, the engine's per-page notices (edition switcher, superseded
--      notice, landing highlights) from _reprobook/pages/<page>.html are
--      placed after the page's first heading.
local common = require("common")

local SHORTCODE = "{{<%s*(%a+)%s+([^%s>]+)%s*>}}"

local function resolve_attributes(el)
  local changed = false
  for name, value in pairs(el.attributes) do
    if value:find("{{<", 1, true) then
      el.attributes[name] = value:gsub(SHORTCODE, function(kind, key)
        if kind ~= "var" and kind ~= "fact" then
          error("reprobook: shortcode '" .. kind .. "' is not allowed in attribute " .. name)
        end
        return common.fact_text(key)
      end)
      changed = true
    end
  end
  if changed then return el end
end

local chapters = nil
local site = nil
local function site_info()
  site = site or common.read_json("site.json", false) or {}
  return site
end

local function print_link(el)
  local target = el.target
  if target:match("^%a[%w+.-]*:") or target:match("^#") or target:match("^/") then
    return nil -- absolute URL, in-page anchor, or site-absolute: leave it
  end
  local path, anchor = target:match("^([^#]*)(.*)$")
  if path:match("%.qmd$") or path:match("%.md$") then
    -- a chapter of the book: an internal link to its heading (Quarto's
    -- Typst output would keep a file link no PDF reader can follow)
    chapters = chapters or common.read_json("chapters.json", false) or {}
    local from = pandoc.path.directory(common.page())
    local parts = {}
    for part in pandoc.path.normalize(pandoc.path.join({ from, path })):gmatch("[^/]+") do
      if part == ".." then table.remove(parts) elseif part ~= "." then table.insert(parts, part) end
    end
    local source = table.concat(parts, "/")
    local label = anchor ~= "" and anchor:sub(2) or chapters[source]
    if not label then return el.content end
    local out = pandoc.Inlines({ pandoc.RawInline("typst", "#link(<" .. label .. ">)[") })
    out:extend(el.content)
    out:insert(pandoc.RawInline("typst", "]"))
    return out
  end
  if not path:match("%.html$") then
    return nil
  end
  local info = site_info()
  if info.site_url and info.site_url ~= "" then
    local from = pandoc.path.directory(common.page())
    local joined = pandoc.path.normalize(pandoc.path.join({ from, path }))
    el.target = info.site_url .. joined .. anchor
    return el
  end
  return el.content
end

-- Under each figure's caption: its data, the notebook cell that drew it and
-- the ledger entries of the facts it prints (_reprobook/figures.json).
local figure_links = nil
local function add_figure_links(el)
  figure_links = figure_links or common.read_json("figures.json", false) or {}
  local links = figure_links[el.identifier]
  if not links or #el.caption.long == 0 then return nil end
  local last = el.caption.long[#el.caption.long]
  for _, link in ipairs(links) do
    last.content:insert(pandoc.Space())
    last.content:insert(pandoc.Link(link.text, common.root_prefix() .. link.href, "",
      pandoc.Attr("", { link.class })))
  end
  return el
end

-- The figure's image becomes a link to the image file itself: on a phone a
-- tap opens the chart or map full size, to zoom (no script, as the built-in
-- renderer does). A chart with a narrow-layout variant
-- (_reprobook/narrow.json) is shown through <picture>: the variant on
-- small screens (the media query and markup are the built-in renderer's,
-- from _reprobook/site.json).
local narrow = nil
local function link_figure_image(el)
  narrow = narrow or common.read_json("narrow.json", false) or {}
  local variant = narrow[el.identifier]
  local changed = false
  el.content = el.content:walk({
    Image = function(img)
      changed = true
      local shown = { img }
      if variant then
        local info = site_info()
        local srcset = common.root_prefix() .. variant
        local open = (info.picture_open or ""):gsub("{srcset}", function() return srcset end)
        shown = { pandoc.RawInline("html", open), img, pandoc.RawInline("html", "</picture>") }
      end
      return pandoc.Link(shown, img.src, "", pandoc.Attr("", { "figure-full" }))
    end,
  })
  if changed then return el end
end

local function insert_page_notes(doc)
  local rel = common.page():gsub("%.[^.]+$", ".html")
  local path = pandoc.path.join({ common.book_dir(), "_reprobook", "pages", rel })
  local f = io.open(path, "r")
  if not f then return nil end
  local raw = pandoc.RawBlock("html", f:read("a"))
  f:close()
  local at = 1
  for i, block in ipairs(doc.blocks) do
    if block.t == "Header" and block.level == 1 then at = i + 1 break end
  end
  doc.blocks:insert(at, raw)
  return doc
end

local filters = {
  { Image = resolve_attributes, Figure = resolve_attributes, Div = resolve_attributes,
    Span = resolve_attributes, Link = resolve_attributes, Table = resolve_attributes },
}
if quarto.doc.is_format("html") then
  table.insert(filters, { Figure = add_figure_links, Pandoc = insert_page_notes })
  table.insert(filters, { Figure = link_figure_image })
else
  table.insert(filters, { Link = print_link })
end
return filters
