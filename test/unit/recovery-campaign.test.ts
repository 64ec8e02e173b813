import { describe, expect, it } from 'vitest';
import { CampaignValidationError, validateCampaign } from '../../src/domain/campaign.js';
import { campaignDocument } from '../factories.js';

describe('campaign resendAmbiguous (issue 9, item 4)', () => {
  it('is absent unless the campaign opts in, so existing versions keep their content hash', () => {
    expect('resendAmbiguous' in validateCampaign(campaignDocument())).toBe(false);
    expect(validateCampaign(campaignDocument({ resendAmbiguous: true })).resendAmbiguous).toBe(true);
    expect(validateCampaign(campaignDocument({ resendAmbiguous: false })).resendAmbiguous).toBe(false);
  });

  it('refuses anything but a boolean, naming the field', () => {
    let error: unknown;
    try {
      validateCampaign(campaignDocument({ resendAmbiguous: 'yes' }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CampaignValidationError);
    expect((error as CampaignValidationError).issues.map((issue) => issue.path)).toEqual(['resendAmbiguous']);
  });
});
