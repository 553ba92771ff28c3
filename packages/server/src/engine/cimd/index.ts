export { MetadataDocumentClients, metadataDocumentSettings, type MetadataDocumentSettings } from './store.js';
export { clientFromDocument, documentUrl, MAX_DOCUMENT_URL } from './document.js';
export { addressAllowed, DocumentRefused, fetchJson, maxAgeOf } from './fetch.js';
