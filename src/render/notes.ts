import type { RenderNote } from '../domain/decide.js';
import { renderTemplate } from './handlebars.js';

/** Renders the bot's notes from `templates/notes/<name>.md.hbs`. */
export const renderNote: RenderNote = (template, model) => renderTemplate(`notes/${template}.md.hbs`, model).trim();
