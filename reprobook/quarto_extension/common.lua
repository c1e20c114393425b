-- Shared by the shortcode and the filter: where the engine's generated data
-- lives (_reprobook/ in the book being rendered, written by `reprobook`
-- before Quarto runs) and how a page path relates to the book's root.
local M = {}

function M.book_dir()
  if quarto and quarto.project and quarto.project.directory then
    return quarto.project.directory
  end
  return pandoc.path.directory(quarto.doc.input_file)
end

function M.read_json(name, required)
  local path = pandoc.path.join({ M.book_dir(), "_reprobook", name })
  local f = io.open(path, "r")
  if not f then
    if required then
      error("reprobook: " .. path .. " is missing; run `reprobook check` "
        .. "(or ./run build) before rendering with Quarto")
    end
    return nil
  end
  local data = pandoc.json.decode(f:read("a"), false)
  f:close()
  return data
end

-- The page being rendered, relative to the book's root, e.g. chapters/x.qmd.
function M.page()
  return pandoc.path.make_relative(quarto.doc.input_file, M.book_dir())
end

-- "../" for every folder between the page and the book's root.
function M.root_prefix()
  local _, depth = M.page():gsub("/", "")
  return string.rep("../", depth)
end

-- A Typst string literal: printed exactly, never read as markup (a number
-- at the start of a line, "2023.", would otherwise start a list).
function M.typst_string(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

-- The engine's tables of printed text, read once: facts.json (key -> text)
-- and facts-words.json (key -> the number in words, for fmt=words).
local tables = {}
local function lookup(file, key, missing)
  tables[file] = tables[file] or M.read_json(file, true)
  local value = tables[file][key]
  if value == nil then
    error("reprobook: " .. missing .. " in " .. M.page())
  end
  return value
end

function M.fact_text(key)
  return lookup("facts.json", key, "unknown fact '" .. key .. "'")
end

function M.fact_words(key)
  M.fact_text(key) -- an unknown key fails as it does without a format
  return lookup("facts-words.json", key,
    "fact '" .. key .. "' has no fmt=words form (a whole number from 0 to 99)")
end

return M
